package main

import (
	"bytes"
	"strings"
	"testing"
	"text/tabwriter"
)

// TestTableIsTabwriterForASCII: for ASCII cells, table lays out exactly
// what text/tabwriter did, blocks of lines with fewer cells, empty cells
// and a last line without a newline included, so the English listings are
// unchanged.
func TestTableIsTabwriterForASCII(t *testing.T) {
	for _, text := range []string{
		"RUN\tRUNBOOK\tSTARTED\tDURATION\nruns/a\tok\t2026-12-02 20:24\t8.0 s\nruns/bb\t?\t?\t?\n",
		"a\tb\tc\n\nlonger cell\tx\nno tabs here\nq\tw\te\tr\t\n",
		"?\t?\t?\tunreadable: x\t\t\t\t\truns/x\nSTARTED\tRUNBOOK\tSITE\tRESULT\tRTO\tMEASURED\tDOWNTIME\tCHAIN\tRUN\n",
		"x\ty",
		"",
	} {
		var want, got bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
		tw.Write([]byte(text))
		tw.Flush()
		tb := newTable(&got)
		tb.Write([]byte(text))
		tb.Flush()
		if got.String() != want.String() {
			t.Errorf("%q:\ngot\n%q\nwant\n%q", text, got.String(), want.String())
		}
	}
}

// TestTableAlignsChineseByDisplayWidth: a Chinese header and ASCII rows
// start each column at the same terminal column.
func TestTableAlignsChineseByDisplayWidth(t *testing.T) {
	var out bytes.Buffer
	tb := newTable(&out)
	tb.Write([]byte("開始時間（Asia/Taipei）\t演練手冊\t場域\n2026-12-02 20:24\tha-host-failure\t模擬環境 ×30\n"))
	tb.Flush()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	col := func(line, cell string) int { return screenWidth.StringWidth(line[:strings.Index(line, cell)]) }
	if a, b := col(lines[0], "演練手冊"), col(lines[1], "ha-host-failure"); a != b {
		t.Errorf("second column at %d and %d:\n%s", a, b, out.String())
	}
	if a, b := col(lines[0], "場域"), col(lines[1], "模擬環境"); a != b {
		t.Errorf("third column at %d and %d:\n%s", a, b, out.String())
	}
}
