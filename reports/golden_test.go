// Golden files: reports/testdata/drill.<lang>.<ext> hold every format in
// both languages for the reference HA drill, and lab.<lang>.<ext> the same
// drill run against the lab at ×30. After an intended change to a
// renderer, regenerate them with
//
//	go test ./reports -run TestGolden -update
//
// and review the diff like code.
package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenHash stands in for the journal's final hash in golden files: the
// journal records the writer's monotonic elapsed time, so the real hash
// differs on every run. TestBuildMeasuresTheDrill checks the real one.
const goldenHash = "f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1f1a1"

var extOf = map[string]string{FormatHTML: "html", FormatMD: "md", FormatJSON: "json", FormatJUnit: "junit.xml"}

func goldenReport(t testing.TB) *Report {
	r := buildRun(t, writeDrillJournal(t))
	r.Integrity.FinalHash = goldenHash
	return r
}

// goldenLabReport is goldenReport for the drill run in the lab.
func goldenLabReport(t testing.TB) *Report {
	r := buildRun(t, writeLabDrillJournal(t))
	r.Integrity.FinalHash = goldenHash
	return r
}

func TestGolden(t *testing.T) {
	testGolden(t, "drill", goldenReport(t))
	testGolden(t, "lab", goldenLabReport(t))
}

func testGolden(t *testing.T, name string, r *Report) {
	for _, lang := range []string{LangEN, LangZhTW} {
		for _, format := range Formats {
			t.Run(name+"/"+lang+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Render(&buf, r, format, lang); err != nil {
					t.Fatal(err)
				}
				checkWellFormed(t, format, buf.Bytes())
				path := filepath.Join("testdata", name+"."+lang+"."+extOf[format])
				if *update {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v; create it with: go test ./reports -run TestGolden -update", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s differs from the rendered report; if the change is intended, run: go test ./reports -run TestGolden -update\n%s",
						path, firstDifference(want, buf.Bytes()))
				}
			})
		}
	}
}

// checkWellFormed parses the structured formats back.
func checkWellFormed(t *testing.T, format string, out []byte) {
	t.Helper()
	switch format {
	case FormatJSON:
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("JSON report does not parse: %v", err)
		}
		if doc["schema"] != Schema {
			t.Fatalf("schema %v", doc["schema"])
		}
	case FormatJUnit:
		var doc junitSuites
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("JUnit report does not parse: %v", err)
		}
		if len(doc.Suites) != 1 || doc.Tests != len(doc.Suites[0].Cases) {
			t.Fatalf("JUnit counts: %+v", doc)
		}
	}
}

func firstDifference(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  golden:   " + w + "\n  rendered: " + g
		}
	}
	return "(trailing bytes differ)"
}

// Every fixed text exists in both languages, and the zh-TW wording uses
// the terms of Taiwan's government documents.
func TestCatalogComplete(t *testing.T) {
	for k, v := range catalog {
		if v[0] == "" || v[1] == "" {
			t.Errorf("catalog %q lacks a language: %q", k, v)
		}
	}
	for _, term := range []string{"演練報告", "復原時間目標", "停機時間", "簽核"} {
		found := false
		for _, v := range catalog {
			if strings.Contains(v[1], term) {
				found = true
			}
		}
		if !found {
			t.Errorf("no zh-TW text uses %q", term)
		}
	}
	if err := Render(&bytes.Buffer{}, goldenReport(t), "pdf", LangEN); err == nil || !strings.Contains(err.Error(), "use one of") {
		t.Errorf("unknown format: %v", err)
	}
	if err := Render(&bytes.Buffer{}, goldenReport(t), FormatHTML, "fr"); err == nil || !strings.Contains(err.Error(), "en or zh-TW") {
		t.Errorf("unknown language: %v", err)
	}
}
