package reports

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// drillStart is 10:00:00 in Taipei on the day of the fixture drill.
var drillStart = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)

// at is a moment of the fixture drill, as an offset "2m41.2s" from its start.
func at(offset string) time.Time {
	d, err := time.ParseDuration(offset)
	if err != nil {
		panic(err)
	}
	return drillStart.Add(d)
}

func dur(s string) journal.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return journal.Duration(d)
}

// journalBuilder appends events with explicit times through the real
// journal writer (hash chain, secret scrubbing), failing the test on error.
type journalBuilder struct {
	tb testing.TB
	w  *journal.Writer
}

func newJournal(tb testing.TB, runDir string) *journalBuilder {
	tb.Helper()
	w, err := journal.Create(filepath.Join(runDir, journal.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	w.NoSync = true // tests and benchmarks measure the report, not the disk
	return &journalBuilder{tb: tb, w: w}
}

func (j *journalBuilder) add(t time.Time, step string, ev journal.Event) {
	j.tb.Helper()
	ev.Time, ev.Step = t, step
	if ev.Type == "" {
		switch {
		case ev.RunStart != nil:
			ev.Type = journal.TypeRunStart
		case ev.RunResume != nil:
			ev.Type = journal.TypeRunResume
		case ev.RunEnd != nil:
			ev.Type = journal.TypeRunEnd
		case ev.StepStart != nil:
			ev.Type = journal.TypeStepStart
		case ev.StepRetry != nil:
			ev.Type = journal.TypeStepRetry
		case ev.StepFinish != nil:
			ev.Type = journal.TypeStepFinish
		case ev.Evidence != nil:
			ev.Type = journal.TypeEvidence
		case ev.Note != nil:
			ev.Type = journal.TypeNote
		case ev.Decision != nil:
			ev.Type = journal.TypeDecision
		case ev.Trust != nil:
			ev.Type = journal.TypeTrust
		case ev.Monitor != nil:
			ev.Type = journal.TypeMonitor
		case ev.Artifact != nil:
			ev.Type = journal.TypeArtifact
		}
	}
	if _, err := j.w.Append(ev); err != nil {
		j.tb.Fatal(err)
	}
}

// step journals a whole step: start, finish and whatever extra events
// happen in between.
func (j *journalBuilder) step(id, kind, target string, start, end time.Time, attempts int, status string, fin journal.StepFinish, extra ...journal.Event) {
	j.tb.Helper()
	j.add(start, id, journal.Event{StepStart: &journal.StepStart{Kind: kind, Target: target, Attempt: 1}})
	for _, ev := range extra {
		t := ev.Time
		if t.IsZero() {
			t = start
		}
		j.add(t, id, ev)
	}
	fin.Status, fin.Attempts, fin.Started, fin.Finished = status, attempts, start, end
	fin.Duration = journal.Duration(end.Sub(start))
	j.add(end, id, journal.Event{StepFinish: &fin})
}

func (j *journalBuilder) close() {
	if err := j.w.Close(); err != nil {
		j.tb.Fatal(err)
	}
}

func text(en, zh string) journal.Text { return journal.Text{EN: en, ZhTW: zh} }

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// writeDrillJournal writes the reference HA drill of DOMAIN.md (host .68
// fails, HA restarts its VMs, the AP is restored) as the engine journals
// it, and returns the run directory.
func writeDrillJournal(tb testing.TB) string {
	tb.Helper()
	return writeDrillJournalAs(tb, nil)
}

// writeLabDrillJournal writes the same drill as run against the lab at
// ×30, the way `drbook run --lab` journals it.
func writeLabDrillJournal(tb testing.TB) string {
	tb.Helper()
	return writeDrillJournalAs(tb, func(rs *journal.RunStart) {
		rs.Mode = ModeLab
		rs.Labels["lab_speed"] = "30"
	})
}

// writeDrillJournalAs writes the reference drill, letting change adjust
// its run.start first.
func writeDrillJournalAs(tb testing.TB, change func(*journal.RunStart)) string {
	tb.Helper()
	dir := tb.TempDir()
	j := newJournal(tb, dir)
	rs := &journal.RunStart{
		Schema: journal.SchemaVersion, RunID: "20261125-100000-ha", Runbook: "ha-host-failure",
		RunbookPath: "runbooks/ha-host-failure.yaml", RunbookVer: "2026.11",
		RunbookSHA256: "5f1d7c0a9b3e2d4c6a8b0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d",
		Title:         text("HA drill: sudden failure of host .68", "HA 演練：主機 .68 無預警停機"),
		Site:          "land-office", SitePath: "sites/land-office.yaml",
		SiteSHA256:    "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
		DrbookVersion: "0.3.0", Operator: "chen.wl", Machine: "drill-nb-01", Mode: "drill",
		Params: map[string]any{"failed_host": "esx-68"}, RTO: dur("5m"),
		Labels: map[string]string{"timezone": "Asia/Taipei", "reviewed_by": "林資訊課長", "auditor": "王稽核"},
		Steps: []journal.PlannedStep{
			{ID: "placement_before", Name: text("Record VM placement", "記錄虛擬機配置"), Kind: "vcenter.inventory", Block: "steps", Expect: dur("30s")},
			{ID: "shut", Name: text("Shut down host .68", "將主機 .68 關機"), Kind: "vcenter.host.shutdown", Block: "steps", Disruptive: true},
			{ID: "ha", Name: text("HA restarts the VMs of .68", "HA 重新啟動 .68 上之虛擬機"), Kind: "vcenter.ha.verify_restart", Block: "steps", Expect: dur("1m"), Recovery: true},
			{ID: "services_back", Name: text("AP web answers", "AP 網站恢復服務"), Kind: "check.http", Block: "steps", Recovery: true},
			{ID: "fix", Name: text("Point httpd at the new address", "修改 httpd 設定為新位址"), Kind: "ssh.edit_file", Block: "steps"},
			{ID: "archive", Name: text("List the backup archive", "列出備份檔內容"), Kind: "ssh.exec", Block: "steps", Expect: dur("20s")},
			{ID: "tell_users", Name: text("Tell the counter staff", "通知櫃檯同仁"), Kind: "manual", Block: "steps"},
			{ID: "gis_check", Name: text("Check the GIS server", "檢查 GIS 伺服器"), Kind: "check.http", Block: "steps"},
			{ID: "rollback", Name: text("Roll back", "復原變更"), Kind: "manual", Block: "on_failure"},
			{ID: "power_on", Name: text("Power host .68 back on", "至主機 .68 開機"), Kind: "manual", Block: "finally"},
		},
	}
	if change != nil {
		change(rs)
	}
	j.add(at("0s"), "", journal.Event{RunStart: rs})
	mon := func(t time.Time, name, state, res, detail string) {
		j.add(t, "", journal.Event{Monitor: &journal.Monitor{Name: name, State: state, Since: t, Resolution: dur(res), Detail: detail}})
	}
	mon(at("0.5s"), "ap-web", "up", "500ms", "")
	mon(at("1s"), "db-tcp", "up", "1s", "")
	j.add(at("2s"), "", journal.Event{Trust: &journal.Trust{Kind: "tls-certificate", Endpoint: "vcenter.lab:443",
		Fingerprint: "SHA256:9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08", Source: "pinned"}})

	placement := func(title string, rows [][]string) journal.Event {
		return journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceTable, Title: title,
			Table: &journal.Table{Columns: []string{"VM", "Host", "Power"}, Rows: rows}}}
	}
	j.step("placement_before", "vcenter.inventory", "vcenter.lab", at("5s"), at("9.8s"), 1, journal.StatusOK, journal.StepFinish{},
		placement("Placement before", [][]string{
			{"(97)apweb(01)", "esx-68", "poweredOn"}, {"(72)gis(01)", "esx-68", "poweredOn"},
			{"(65)apfg(02)", "esx-68", "poweredOn"}, {"(60)print(01)", "esx-68", "poweredOn"},
			{"(227)VCenter", "esx-70", "poweredOn"}}))

	j.add(at("2m25s"), "shut", journal.Event{Decision: &journal.Decision{Who: "chen.wl", Action: "run", Reason: "drill window opened by 林資訊課長"}})
	j.step("shut", "vcenter.host.shutdown", "esx-68", at("2m30s"), at("2m34.6s"), 1, journal.StatusOK,
		journal.StepFinish{Result: raw(map[string]any{"host": "esx-68", "forced": true, "task": "task-1201"})},
		journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceFacts, Title: "Shutdown task",
			Facts: []journal.Fact{{Key: "task", Value: "task-1201"}, {Key: "state", Value: "success"}}}})
	mon(at("2m41.2s"), "ap-web", "down", "500ms", "connection refused")
	mon(at("2m42s"), "db-tcp", "down", "1s", "i/o timeout")

	j.step("ha", "vcenter.ha.verify_restart", "esx-68", at("2m34.7s"), at("3m46.9s"), 1, journal.StatusOK,
		journal.StepFinish{Result: raw(map[string]any{"restarted": 4, "slowest": "1m8.4s"})},
		journal.Event{Time: at("3m46s"), Evidence: &journal.Evidence{Kind: journal.EvidenceTimeline, Title: "vCenter HA events",
			Timeline: []journal.Moment{
				{At: at("3m5s"), Label: "Host esx-68 is not responding", Source: "vCenter"},
				{At: at("3m6.2s"), Label: "vSphere HA detected a possible host failure of esx-68", Source: "vCenter"},
				{At: at("3m15s"), Label: "vSphere HA restarted (65)apfg(02) on esx-70", Source: "vCenter"},
				{At: at("3m21.4s"), Label: "vSphere HA restarted (97)apweb(01) on esx-69", Source: "vCenter"},
			}}},
		journal.Event{Time: at("3m46.5s"), Evidence: &journal.Evidence{Kind: journal.EvidenceTable, Title: "Per-VM HA restart",
			Table: &journal.Table{Columns: []string{"VM", "From", "To", "Powered on after"}, Rows: [][]string{
				{"(97)apweb(01)", "esx-68", "esx-69", "51.4s"}, {"(72)gis(01)", "esx-68", "esx-69", "58.0s"},
				{"(65)apfg(02)", "esx-68", "esx-70", "45.0s"}, {"(60)print(01)", "esx-68", "esx-70", "1m8.4s"}}}}},
		placement("Placement after", [][]string{
			{"(97)apweb(01)", "esx-69", "poweredOn"}, {"(72)gis(01)", "esx-69", "poweredOn"},
			{"(65)apfg(02)", "esx-70", "poweredOn"}, {"(60)print(01)", "esx-70", "poweredOn"},
			{"(227)VCenter", "esx-70", "poweredOn"}}))
	mon(at("3m20s"), "db-tcp", "up", "1s", "")
	mon(at("3m39.6s"), "ap-web", "up", "500ms", "")

	j.add(at("3m47s"), "services_back", journal.Event{StepStart: &journal.StepStart{Kind: "check.http", Target: "http://10.0.0.97/", Attempt: 1}})
	j.add(at("3m48s"), "services_back", journal.Event{StepRetry: &journal.StepRetry{Attempt: 1, Error: "GET http://10.0.0.97/: 503 Service Unavailable", Delay: dur("2s")}})
	j.add(at("3m50s"), "services_back", journal.Event{StepFinish: &journal.StepFinish{Status: journal.StatusOK, Attempts: 2,
		Started: at("3m47s"), Finished: at("3m50.2s"), Duration: dur("3.2s"), Result: raw(map[string]any{"status": 200})}})

	diff := "--- /etc/httpd/conf/httpd.conf\n+++ /etc/httpd/conf/httpd.conf\n@@ -57,3 +57,3 @@\n Listen 80\n-ServerName 10.0.0.65:80\n+ServerName 10.0.0.66:80\n DocumentRoot \"/var/www/html\"\n"
	for i, host := range []string{"ap02", "ap03"} {
		id := "fix[" + string(rune('0'+i)) + "]"
		start := at("4m").Add(time.Duration(i) * 3 * time.Second)
		j.step(id, "ssh.edit_file", host, start, start.Add(2500*time.Millisecond), 1, journal.StatusOK, journal.StepFinish{},
			journal.Event{Trust: &journal.Trust{Kind: "ssh-host-key", Endpoint: host + ":22", Fingerprint: "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY" + string(rune('A'+i)), Source: "pinned"}},
			journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceDiff, Title: "httpd.conf on " + host, Diff: &journal.Diff{Path: "/etc/httpd/conf/httpd.conf", Unified: diff}}})
	}

	j.step("archive", "ssh.exec", "ap03", at("4m10s"), at("4m41.5s"), 1, journal.StatusOK, journal.StepFinish{},
		journal.Event{Trust: &journal.Trust{Kind: "ssh-host-key", Endpoint: "ap03:22", Fingerprint: "SHA256:Xk2lq0m5Yy1Q8vD0c4f7h1Kp9sT3uW6zA2bC4dE6fG8", Source: "accepted-new"}},
		journal.Event{Artifact: &journal.Artifact{Name: "archive.stdout", Path: "artifacts/archive.stdout", Size: 18432,
			SHA256: "3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8551"}},
		journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceTranscript, Title: "Backup archive contents",
			Transcript: &journal.Transcript{Target: "root@ap03", Command: "tar -tzvf /root/ap02bk.tar.1125.tgz | head", ExitCode: 0,
				Stdout:    "drwxr-xr-x root/root 0 2026-11-24 23:00 root/\n-rw-r--r-- root/root 1432 2026-11-24 23:00 etc/httpd/conf/httpd.conf\n-rw-r--r-- root/root 211 2026-11-24 23:00 etc/hosts\n",
				Truncated: true, StdoutArtifact: "archive.stdout"}}})

	j.add(at("4m45s"), "tell_users", journal.Event{StepStart: &journal.StepStart{Kind: "manual", Attempt: 1}})
	j.add(at("6m10s"), "tell_users", journal.Event{Decision: &journal.Decision{Who: "chen.wl", Action: "done-by-hand", Reason: "phoned the counter",
		Inputs: map[string]any{"staff_informed": "張小姐", "minutes": 2}}})
	j.add(at("6m10s"), "tell_users", journal.Event{StepFinish: &journal.StepFinish{Status: journal.StatusManual, Attempts: 1,
		Started: at("4m45s"), Finished: at("6m10s"), Duration: dur("1m25s"), HumanWait: dur("1m25s")}})

	j.add(at("6m11s"), "gis_check", journal.Event{StepFinish: &journal.StepFinish{Status: journal.StatusSkipped, Attempts: 0,
		Started: at("6m11s"), Finished: at("6m11s"), Reason: "when: params.check_gis is false"}})
	j.add(at("6m12s"), "", journal.Event{Note: &journal.Note{Level: "info", Text: "All services answered; starting finally steps."}})

	j.add(at("6m15s"), "power_on", journal.Event{StepStart: &journal.StepStart{Kind: "manual", Block: "finally", Attempt: 1}})
	j.add(at("9m40s"), "power_on", journal.Event{Decision: &journal.Decision{Who: "lin.sy", Action: "done-by-hand", Reason: "powered on at the console"}})
	j.add(at("9m40s"), "power_on", journal.Event{StepFinish: &journal.StepFinish{Status: journal.StatusOK, Attempts: 1,
		Started: at("6m15s"), Finished: at("9m40s"), Duration: dur("3m25s"), HumanWait: dur("3m20s")}})
	j.add(at("9m41s"), "", journal.Event{RunEnd: &journal.RunEnd{Result: "passed", Duration: dur("9m41s")}})
	j.close()
	return dir
}
