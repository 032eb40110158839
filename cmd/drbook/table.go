package main

import (
	"io"
	"strings"
)

// table lays out tab-separated cells in columns like text/tabwriter
// (minwidth 0, padding 2, spaces, no flags), measuring each cell as the
// terminal draws it: text/tabwriter counts a Chinese character as one
// column where the terminal draws two, so the zh-TW listings (runs,
// history, fleet) came out ragged. ASCII tables come out byte for byte
// as text/tabwriter lays them out (TestTableIsTabwriterForASCII).
type table struct {
	out io.Writer
	buf strings.Builder
}

func newTable(w io.Writer) *table { return &table{out: w} }

func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes what was written since the last Flush, in columns. As in
// text/tabwriter, a cell is text ended by a tab; a line's last cell is not
// part of a column; a column's width is its widest cell plus the padding
// over a block of consecutive lines that have that column.
func (t *table) Flush() error {
	const padding = 2
	text := t.buf.String()
	t.buf.Reset()
	if text == "" {
		return nil
	}
	newline := strings.HasSuffix(text, "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	cells := make([][]string, len(lines))
	for i, l := range lines {
		cells[i] = strings.Split(l, "\t")
	}
	widths := make([][]int, len(lines))
	for col := 0; ; col++ {
		found := false
		for i := 0; i < len(lines); {
			if len(cells[i])-1 <= col {
				i++
				continue
			}
			found = true
			end, width := i, 0
			for ; end < len(lines) && len(cells[end])-1 > col; end++ {
				width = max(width, screenWidth.StringWidth(cells[end][col])+padding)
			}
			for ; i < end; i++ {
				widths[i] = append(widths[i], width)
			}
		}
		if !found {
			break
		}
	}
	var b strings.Builder
	for i, line := range cells {
		for j, c := range line[:len(line)-1] {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i][j]-screenWidth.StringWidth(c)))
		}
		b.WriteString(line[len(line)-1])
		if i < len(lines)-1 || newline {
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(t.out, b.String())
	return err
}
