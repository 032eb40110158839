package main

import (
	"context"
	"strings"
	"testing"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/lab"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

// TestPreflightReferenceDrillsPassOnAFreshLab: on a fresh lab the AP
// restore's standby has no archive yet, which is the normal case: the
// transfer step puts it there. The preflight must pass both reference
// drills, and say that the archive comes from the transfer step (and the
// transfer's source from the backup step) instead of looking for them.
func TestPreflightReferenceDrillsPassOnAFreshLab(t *testing.T) {
	ctx := context.Background()
	l, err := lab.Start(ctx, lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := labSite(l)
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Registry: all.Registry(), OperatorName: "test", Options: steps.Options{Lang: "en"}}
	for _, name := range []string{"ap-restore", "ha-host-failure"} {
		rb, err := runbooks.Load("../../runbooks/sanchong/"+name+".yaml", runbooks.Options{Registry: all.Registry(), Site: s})
		if err != nil {
			t.Fatal(err)
		}
		rep := engine.Preflight(ctx, rb, cfg)
		if err := rep.Err(); err != nil {
			for _, c := range rep.Checks {
				t.Logf("%s %s %s %s", c.Step, c.Result, c.Detail, c.Hint)
			}
			t.Fatalf("%s: %v", name, err)
		}
		got := map[string]engine.Check{}
		for _, c := range rep.Checks {
			got[c.Step] = c
		}
		if name != "ap-restore" {
			if c := got["monitor:ap-web"]; c.Result != engine.CheckOK {
				t.Errorf("%s: monitor ap-web %s %q, want ok (the baseline)", name, c.Result, c.Detail)
			}
			continue
		}
		if c := got["restore"]; c.Result != engine.CheckOK || !strings.Contains(c.Detail, "/root/apfg02bk.tgz on ap03: not there yet; produced by step transfer") {
			t.Errorf("restore: %s %q", c.Result, c.Detail)
		}
		if c := got["transfer"]; c.Result != engine.CheckOK || !strings.Contains(c.Detail, "known when step backup has run") {
			t.Errorf("transfer: %s %q", c.Result, c.Detail)
		}
	}
}
