package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Listings of runs (runs, history, fleet history) show each run's times in
// the zone its report uses, its runbook's timezone label (timezone:
// Asia/Taipei), and those of a run without one in the machine's zone; the
// header names the zone when every row shares it, and otherwise each time
// names its own.

// listingZone is a zone a listing shows times in, with its name.
type listingZone struct {
	name string
	loc  *time.Location
}

// runZone is the zone of a run whose runbook's timezone label is label
// ("" when it has none).
func runZone(label string) listingZone {
	if label != "" {
		if loc, err := time.LoadLocation(label); err == nil {
			return listingZone{name: label, loc: loc}
		}
	}
	return machineZone()
}

// machineZone is the machine's zone; tests replace it.
var machineZone = func() listingZone { return listingZone{name: localZoneName(), loc: time.Local} }

// localZoneName names the machine's zone the way a person sets it: $TZ,
// else the zone /etc/localtime links to (Asia/Taipei), else its
// abbreviation and offset now.
func localZoneName() string {
	if tz, ok := os.LookupEnv("TZ"); ok {
		tz = strings.TrimPrefix(tz, ":")
		if tz == "" {
			return "UTC"
		}
		if _, err := time.LoadLocation(tz); err == nil {
			return tz
		}
	}
	if target, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok && name != "" {
			return name
		}
	}
	return time.Now().Format("MST -07:00")
}

// sharedZone is the zone every one of zones is, or "" when they differ
// (or there are none).
func sharedZone(zones []listingZone) string {
	if len(zones) == 0 {
		return ""
	}
	for _, z := range zones[1:] {
		if z.name != zones[0].name {
			return ""
		}
	}
	return zones[0].name
}

// startedHead is the header of a listing's start column: it names the
// zone when every row shares one.
func (m auditMessages) startedHead(shared string) string {
	if shared != "" {
		return m.Say("listing.started_in", shared)
	}
	return m.Say("listing.started")
}

// stampIn is t in z, with z's name when the header does not give it.
func (m auditMessages) stampIn(t time.Time, z listingZone, shared string) string {
	s := t.In(z.loc).Format("2006-01-02 15:04")
	if shared == "" {
		s += " " + z.name
	}
	return s
}
