package fleet

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// ReportSchema names the fleet report's JSON format.
const ReportSchema = "drbook.fleet-report/v1"

// Report is a fleet's report: its cover from the manifest, and per site
// the figures of the site's own report (reports.Build of its journal,
// hash chain verified): verdict, RTO objective against measured recovery,
// downtime per monitored service, deviations.
type Report struct {
	Schema  string       `json:"schema"`
	Cover   Cover        `json:"cover"`
	Summary Summary      `json:"summary"`
	Sites   []SiteReport `json:"sites"`

	loc *time.Location
}

// Cover is what the manifest says about the fleet.
type Cover struct {
	FleetID       string            `json:"fleet_id"`
	Title         journal.Text      `json:"title,omitempty"`
	Runbook       string            `json:"runbook"`
	RunbookSHA256 string            `json:"runbook_sha256,omitempty"`
	Operator      string            `json:"operator"`
	Machine       string            `json:"machine"`
	DrbookVersion string            `json:"drbook_version"`
	Mode          string            `json:"mode"`
	LabSpeed      float64           `json:"lab_speed,omitempty"`
	Concurrency   int               `json:"concurrency"`
	FailFast      bool              `json:"fail_fast,omitempty"`
	Unattended    bool              `json:"unattended"`
	Vars          map[string]string `json:"vars,omitempty"`
	Started       time.Time         `json:"started"`
	Ended         *time.Time        `json:"ended,omitempty"`
	// RecordedResult is the manifest's result; the summary's verdict is
	// the one to rely on.
	RecordedResult string `json:"recorded_result,omitempty"`
	TimeZone       string `json:"time_zone"`
}

// SiteReport is one site's line of the fleet report.
type SiteReport struct {
	Name   string `json:"name"`
	RunDir string `json:"run_dir,omitempty"`
	RunID  string `json:"run_id,omitempty"`
	// State is the manifest's state of the site; Verdict the site
	// report's verdict (reports.Verdict), or the state when the site has
	// no run (preflight-failed, not-started, error).
	State          string   `json:"state"`
	Verdict        string   `json:"verdict"`
	VerdictReasons []string `json:"verdict_reasons,omitempty"`
	// Problem says why the site has no report (no run, unreadable journal).
	Problem       string                 `json:"problem,omitempty"`
	Start         *time.Time             `json:"start,omitempty"`
	End           *time.Time             `json:"end,omitempty"`
	Duration      journal.Duration       `json:"duration,omitempty"`
	RTO           journal.Duration       `json:"rto,omitempty"`
	Measured      *journal.Duration      `json:"rto_measured,omitempty"`
	Met           *bool                  `json:"rto_met,omitempty"`
	Mode          string                 `json:"mode,omitempty"`
	LabSpeed      float64                `json:"lab_speed,omitempty"`
	Downtime      []reports.ServiceTotal `json:"downtime"`
	Deviations    []reports.Deviation    `json:"deviations"`
	ChainVerified bool                   `json:"chain_verified"`
	FinalHash     string                 `json:"final_hash,omitempty"`

	report *reports.Report
}

// Summary is the fleet's result.
type Summary struct {
	// Verdict is passed when every site's verdict is passed, failed when
	// any site failed, was aborted, did not start or does not verify,
	// else the first site's unfinished state (interrupted, paused,
	// incomplete).
	Verdict string         `json:"verdict"`
	Sites   int            `json:"sites"`
	Passed  int            `json:"passed"`
	Counts  map[string]int `json:"counts"`
	// RTOMet, RTOMissed and NotRecovered count the sites with an
	// objective by how their recovery went.
	RTOMet       int `json:"rto_met"`
	RTOMissed    int `json:"rto_missed"`
	NotRecovered int `json:"not_recovered"`
	// Fastest, Median and Slowest are the measured recoveries across the
	// sites that recovered.
	Fastest *SiteFigure       `json:"fastest,omitempty"`
	Median  *journal.Duration `json:"median,omitempty"`
	Slowest *SiteFigure       `json:"slowest,omitempty"`
	// Downtime is each monitored service across the sites.
	Downtime []ServiceAcross `json:"downtime"`
}

// SiteFigure is a duration at a site.
type SiteFigure struct {
	Site     string           `json:"site"`
	Duration journal.Duration `json:"duration"`
}

// ServiceAcross is one monitored service's downtime across the sites.
type ServiceAcross struct {
	Name string `json:"name"`
	// Sites is how many sites monitored it; Down at how many it was down.
	Sites int              `json:"sites"`
	Down  int              `json:"down"`
	Total journal.Duration `json:"total"`
	Worst SiteFigure       `json:"worst"`
	// DownAtEnd lists the sites where it was still down when the run ended.
	DownAtEnd []string `json:"down_at_end,omitempty"`
}

// Site returns the named site's report, or nil.
func (r *Report) Site(name string) *SiteReport {
	for i := range r.Sites {
		if r.Sites[i].Name == name {
			return &r.Sites[i]
		}
	}
	return nil
}

// Build reads a fleet directory: its manifest, and each site's journal
// through reports.ReadRun.
func Build(dir string) (*Report, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	r := &Report{Schema: ReportSchema, loc: time.UTC, Cover: Cover{
		FleetID: m.FleetID, Runbook: m.Runbook, RunbookSHA256: m.RunbookSHA256, Operator: m.Operator, Machine: m.Machine,
		DrbookVersion: m.DrbookVersion, Mode: m.Mode, LabSpeed: m.LabSpeed, Concurrency: m.Concurrency, FailFast: m.FailFast,
		Unattended: m.Unattended, Vars: m.Vars, Started: m.Started, Ended: m.Ended, RecordedResult: m.Result,
	}}
	zoneSet := false
	for _, s := range m.Sites {
		sr := SiteReport{Name: s.Name, RunDir: s.RunDir, RunID: s.RunID, State: s.State, Verdict: s.State, Problem: s.Error,
			Start: s.Started, End: s.Ended, FinalHash: s.FinalHash, Downtime: []reports.ServiceTotal{}, Deviations: []reports.Deviation{}}
		if s.RunDir == "" {
			if s.State == StatePending || s.State == StateRunning {
				sr.Verdict = reports.ResultIncomplete
			}
			r.Sites = append(r.Sites, sr)
			continue
		}
		rep, err := reports.ReadRun(filepath.Join(dir, s.RunDir))
		if err != nil {
			sr.Verdict, sr.Problem = reports.ResultIncomplete, err.Error()
			r.Sites = append(r.Sites, sr)
			continue
		}
		if !zoneSet {
			// The fleet's times are shown in its runbook's zone.
			r.loc, r.Cover.TimeZone, r.Cover.Title, zoneSet = rep.Location(), rep.TimeZone, rep.Cover.Title, true
		}
		sr.report = rep
		sr.Problem = ""
		sr.RunID, sr.Verdict, sr.VerdictReasons = rep.Cover.RunID, rep.Summary.Verdict, rep.Summary.VerdictReasons
		sr.Start, sr.End, sr.Duration = &rep.Cover.Start, rep.Cover.End, rep.Summary.WallClock
		sr.RTO, sr.Mode, sr.LabSpeed = rep.Summary.RTO, rep.Cover.Mode, rep.Cover.LabSpeed
		if rec := rep.Summary.Recovery; rec != nil {
			sr.Measured, sr.Met = rec.Measured, rec.Met
		}
		for _, mon := range rep.Monitors {
			sr.Downtime = append(sr.Downtime, reports.ServiceTotal{Name: mon.Name, Total: mon.Total, Outages: len(mon.Windows), Resolution: mon.Resolution, DownAtEnd: mon.DownAtEnd})
		}
		sr.Deviations = append(sr.Deviations, rep.Summary.Deviations...)
		sr.ChainVerified = rep.Integrity.ChainVerified
		if sr.Verdict != "passed" {
			// The run's own words: run.end's error, else why the verdict
			// differs from the recorded result (a missed RTO).
			if sr.Problem = rep.Cover.Error; sr.Problem == "" {
				sr.Problem = reports.VerdictExplanation(rep, reports.LangEN)
			}
		}
		r.Sites = append(r.Sites, sr)
	}
	if !zoneSet {
		r.Cover.TimeZone = "UTC"
	}
	r.summarize()
	return r, nil
}

// failing verdicts make the fleet fail.
var failing = map[string]bool{"failed": true, "aborted": true, reports.VerdictNotVerified: true,
	StatePreflightFailed: true, StateNotStarted: true, StateError: true}

func (r *Report) summarize() {
	s := &r.Summary
	s.Sites, s.Counts, s.Downtime = len(r.Sites), map[string]int{}, []ServiceAcross{}
	var recovered []SiteFigure
	services := map[string]*ServiceAcross{}
	var order []string
	unfinished := ""
	anyFailed := false
	for _, site := range r.Sites {
		s.Counts[site.Verdict]++
		switch {
		case site.Verdict == "passed":
			s.Passed++
		case failing[site.Verdict]:
			anyFailed = true
		case unfinished == "":
			unfinished = site.Verdict
		}
		if site.Measured != nil {
			recovered = append(recovered, SiteFigure{Site: site.Name, Duration: *site.Measured})
		}
		if site.RTO > 0 && site.report != nil {
			switch {
			case site.Measured == nil:
				s.NotRecovered++
			case site.Met != nil && *site.Met:
				s.RTOMet++
			default:
				s.RTOMissed++
			}
		}
		for _, d := range site.Downtime {
			a := services[d.Name]
			if a == nil {
				a = &ServiceAcross{Name: d.Name}
				services[d.Name] = a
				order = append(order, d.Name)
			}
			a.Sites++
			a.Total += d.Total
			if d.Total > 0 {
				a.Down++
			}
			if d.Total > a.Worst.Duration || a.Worst.Site == "" {
				a.Worst = SiteFigure{Site: site.Name, Duration: d.Total}
			}
			if d.DownAtEnd {
				a.DownAtEnd = append(a.DownAtEnd, site.Name)
			}
		}
	}
	switch {
	case len(r.Sites) > 0 && s.Passed == len(r.Sites):
		s.Verdict = "passed"
	case anyFailed || len(r.Sites) == 0:
		s.Verdict = "failed"
	default:
		s.Verdict = unfinished
	}
	if len(recovered) > 0 {
		sort.SliceStable(recovered, func(i, j int) bool { return recovered[i].Duration < recovered[j].Duration })
		s.Fastest, s.Slowest = &recovered[0], &recovered[len(recovered)-1]
		med := median(recovered)
		s.Median = &med
	}
	for _, n := range order {
		s.Downtime = append(s.Downtime, *services[n])
	}
}

// median of durations sorted ascending: the middle one, or the mean of
// the two middle ones.
func median(sorted []SiteFigure) journal.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2].Duration
	}
	return (sorted[n/2-1].Duration + sorted[n/2].Duration) / 2
}

// DeviationTexts words a site's deviations in lang as its own report does.
func (s *SiteReport) DeviationTexts(lang string) []string {
	out := make([]string, 0, len(s.Deviations))
	for _, d := range s.Deviations {
		if s.report != nil {
			out = append(out, s.report.DeviationText(d, lang))
		} else {
			out = append(out, fmt.Sprintf("%s %s %s", d.Kind, d.Step, d.Detail))
		}
	}
	return out
}
