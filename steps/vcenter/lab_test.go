package vcenter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/lab/vc"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/steptest"
)

// esx68VMs are the four VMs the reference site runs on host .68 (DOMAIN.md).
var esx68VMs = []string{"(60)mailserver", "(65)apfg(02)", "(72)NTPCWEBFG(02)", "(97)apfg(05)"}

// labBlocks hands each lab its own loopback block, between lab.Start's
// automatic blocks (10-209) and lab/vc's own tests (229 and up).
var (
	labBlockMu sync.Mutex
	labBlock   = 214
)

func startLabVC(t testing.TB, opts vc.Options) (*vc.Site, *site.Site) {
	t.Helper()
	labBlockMu.Lock()
	labBlock++
	if labBlock > 228 {
		labBlock = 215
	}
	opts.Block = labBlock
	labBlockMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := vc.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Close() })
	t.Setenv("DRBOOK_TEST_LAB_PASSWORD", s.Password)
	return s, &site.Site{Name: "lab", Lab: true, VCenter: &site.VCenter{URL: s.URL.String(), User: s.User,
		Password: site.SecretRef{Source: "env", Name: "DRBOOK_TEST_LAB_PASSWORD"}, Thumbprints: []string{s.ThumbprintSHA256}}}
}

type outcome struct {
	res any
	err error
}

// drill runs Drill 1 against a lab: shut esx-68 down with force, then
// verify the HA restart of the VMs the shutdown recorded.
func drill(t testing.TB, st *site.Site, within string) (*hostStopResult, outcome) {
	t.Helper()
	rt := steptest.NewRuntime(t, st)
	rt.Started = time.Now()
	shutKind, haKind := hostShutdown, (&haVerifyRestart{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := shutKind.Execute(ctx, rt, steptest.Decode(t, shutKind, `{host: esx-68, force: true}`))
	if err != nil {
		t.Fatal(err)
	}
	shut := res.(*hostStopResult)
	// The engine interpolates ${{ steps.shut.result.vms }} into this list.
	params := fmt.Sprintf(`{failed_host: esx-68, vms: [%s], within: %s, tools: true}`, quoteAll(shut.VMs), within)
	res, err = haKind.Execute(ctx, rt, steptest.Decode(t, haKind, params))
	return shut, outcome{res, err}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func TestLabDrillHARestartsTheFourVMs(t *testing.T) {
	s, st := startLabVC(t, vc.Options{Speed: 20})
	shut, o := drill(t, st, "30s")
	if !reflect.DeepEqual(shut.VMs, esx68VMs) {
		t.Fatalf("shutdown recorded %v, want %v", shut.VMs, esx68VMs)
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	res := o.res.(*haVerifyResult)
	truth := map[string]vc.Restart{}
	for _, r := range s.GroundTruth() {
		truth[r.VM] = r
	}
	for _, r := range res.VMs {
		gt := truth[r.VM]
		// On a busy machine HA may restart a VM before the step's first
		// look; the step then says so (already running) instead of
		// measuring an outage it did not see.
		if !r.Restarted || r.NewHost == "esx-68" || r.NewHost != gt.ToHost || r.ToolsAt.IsZero() || (r.SeenOffAt.IsZero() && !r.AlreadyRunning) {
			t.Errorf("%+v (ground truth %+v)", r, gt)
		}
		// The step records the power-on from the PropertyCollector's
		// update, never before the lab made it, and no later than it saw
		// the guest's tools (which the lab starts a boot delay later).
		lag := r.PoweredOnAt.Sub(gt.PoweredOn)
		if lag < 0 || r.PoweredOnAt.After(r.ToolsAt) {
			t.Errorf("%s: powered on recorded %s after the lab did it, tools seen at %s", r.VM, lag, stamp(r.ToolsAt))
		}
		t.Logf("%s: %s → %s, outage %s, detection lag %s", r.VM, r.OldHost, r.NewHost, r.Outage, lag)
	}
	var ha []string
	for _, e := range res.Events {
		ha = append(ha, e.Type)
	}
	if len(res.Events) == 0 {
		t.Fatal("no vCenter HA events attached")
	}
	t.Logf("HA events: %v", ha)
}

func TestLabDrillFailedRestartNamesTheVM(t *testing.T) {
	_, st := startLabVC(t, vc.Options{Speed: 60, FailRestart: []string{"(65)apfg(02)"}})
	_, o := drill(t, st, "2s")
	if o.err == nil {
		t.Fatal("verify_restart passed although HA failed to restart (65)apfg(02)")
	}
	msg := o.err.Error()
	if !strings.Contains(msg, "1 of 4 VMs") || !strings.Contains(msg, "(65)apfg(02): still") {
		t.Fatalf("error does not name the VM HA failed to restart:\n%s", msg)
	}
	for _, v := range esx68VMs {
		if v != "(65)apfg(02)" && strings.Contains(msg, v+":") {
			t.Errorf("restarted VM %s listed as failed:\n%s", v, msg)
		}
	}
	t.Log(msg)
}

// BenchmarkDetectionLag measures how long after the lab's HA agent powers a
// VM on (its ground-truth timestamp) verify_restart records it, next to a
// script polling every 5 s, run during the same drills. The HA agent
// restarts the 4 VMs in batches (2 at a time, 5 s of lab time apart), and
// the VMs of one batch are seen together, so the samples are per batch: a
// batch's lag runs from its last VM's power-on to when that VM was seen.
// The poller starts at a random phase, so its lag is uniform over 0–5 s
// (median about 2.5 s); the quartiles say whether it was.
//
//	go test ./steps/vcenter/ -run '^$' -bench DetectionLag -benchtime 10x
func BenchmarkDetectionLag(b *testing.B) {
	var stepLags, pollLags []time.Duration
	for i := 0; i < b.N; i++ {
		s, st := startLabVC(b, vc.Options{})
		poll := startPoller(b, s, 5*time.Second)
		_, o := drill(b, st, "2m")
		if o.err != nil {
			b.Fatal(o.err)
		}
		stepSeen := map[string]time.Time{}
		for _, r := range o.res.(*haVerifyResult).VMs {
			stepSeen[r.VM] = r.PoweredOnAt
		}
		pollSeen := poll.wait(b, esx68VMs)
		for _, batch := range restartBatches(s.GroundTruth(), vc.DefaultRestartBatchInterval/2) {
			last := batch[len(batch)-1]
			stepLags = append(stepLags, stepSeen[last.VM].Sub(last.PoweredOn))
			pollLags = append(pollLags, pollSeen[last.VM].Sub(last.PoweredOn))
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, q := range []struct {
		name string
		at   float64
	}{{"min", 0}, {"p25", 0.25}, {"median", 0.5}, {"p75", 0.75}, {"max", 1}} {
		b.ReportMetric(ms(quantile(stepLags, q.at)), "ms-"+q.name+"-lag-step")
		b.ReportMetric(ms(quantile(pollLags, q.at)), "ms-"+q.name+"-lag-5s-poll")
	}
	b.ReportMetric(float64(len(stepLags)), "batches")
	b.Logf("per batch: verify_restart lags %v; 5 s polling lags %v", stepLags, pollLags)
}

// restartBatches groups HA restarts into the batches the agent powered on:
// a gap of more than gap (lab time) between power-ons starts a new batch.
func restartBatches(truth []vc.Restart, gap time.Duration) [][]vc.Restart {
	rs := slices.Clone(truth)
	slices.SortFunc(rs, func(a, b vc.Restart) int { return a.PoweredOnLab.Compare(b.PoweredOnLab) })
	var out [][]vc.Restart
	for i, r := range rs {
		if r.PoweredOn.IsZero() {
			continue
		}
		if i == 0 || len(out) == 0 || r.PoweredOnLab.Sub(rs[i-1].PoweredOnLab) > gap {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

// quantile is the q-quantile of ds (nearest rank), 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

// poller is the baseline: what a script or Ansible until/retries/delay
// does, reading every VM's placement every interval.
type poller struct {
	mu   sync.Mutex
	seen map[string]time.Time
	stop chan struct{}
	done chan struct{}
}

func startPoller(t testing.TB, s *vc.Site, every time.Duration) *poller {
	t.Helper()
	ctx := context.Background()
	sc := soap.NewClient(s.URL, false)
	sc.SetThumbprint(s.URL.Host, s.ThumbprintSHA256)
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword(s.User, s.Password)); err != nil {
		t.Fatal(err)
	}
	p := &poller{seen: map[string]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	var hosts []mo.HostSystem
	readAll(t, c, "HostSystem", []string{"name"}, &hosts)
	names := map[types.ManagedObjectReference]string{}
	for _, h := range hosts {
		names[h.Self] = h.Name
	}
	// A script starts at an arbitrary moment relative to the failure:
	// give each poller a random phase so the baseline is not biased by
	// when the drill happens to begin.
	phase := time.Duration(rand.Int64N(int64(every)))
	go func() {
		defer close(p.done)
		select {
		case <-time.After(phase):
		case <-p.stop:
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			var vms []mo.VirtualMachine
			v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
			if err == nil {
				_ = v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "runtime.host", "runtime.powerState"}, &vms)
				_ = v.Destroy(ctx)
			}
			now := time.Now()
			p.mu.Lock()
			for _, vm := range vms {
				if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && vm.Runtime.Host != nil && names[*vm.Runtime.Host] != "esx-68" {
					if _, ok := p.seen[vm.Name]; !ok {
						p.seen[vm.Name] = now
					}
				}
			}
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// wait returns when the poller has seen every VM running elsewhere (it saw
// those running before the drill at once; only the drill's VMs matter).
func (p *poller) wait(t testing.TB, vms []string) map[string]time.Time {
	t.Helper()
	for {
		p.mu.Lock()
		out := map[string]time.Time{}
		for _, v := range vms {
			if at, ok := p.seen[v]; ok {
				out[v] = at
			}
		}
		p.mu.Unlock()
		if len(out) == len(vms) {
			close(p.stop)
			<-p.done
			return out
		}
		select {
		case <-t.Context().Done():
			t.Fatal("the 5 s poller never saw every VM restarted")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func readAll(t testing.TB, c *vim25.Client, kind string, props []string, dst any) {
	t.Helper()
	ctx := context.Background()
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{kind}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Destroy(ctx)
	if err := v.Retrieve(ctx, []string{kind}, props, dst); err != nil {
		t.Fatal(err)
	}
}

// TestLabDrillRidesThroughVCenterOutage fails the host that runs
// (227)VCenter, with the site's datacenter set as `drbook lab` sets it:
// vCenter's address refuses connections until HA restarted its VM, answers
// 503 while it starts, and comes back with the session gone. The drill's
// verify_restart rides through all of it, journaling the outage and the
// re-login, and the steps after it work.
func TestLabDrillRidesThroughVCenterOutage(t *testing.T) {
	s, st := startLabVC(t, vc.Options{Speed: 60})
	st.VCenter.Datacenter = vc.DatacenterName
	rt := steptest.NewRuntime(t, st)
	rt.Started = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := hostShutdown.Execute(ctx, rt, steptest.Decode(t, hostShutdown, `{host: esx-70, force: true}`))
	if err != nil {
		t.Fatal(err)
	}
	shut := res.(*hostStopResult)
	if !slices.Contains(shut.VMs, vc.VCenterVM) {
		t.Fatalf("esx-70 did not run %s: %v", vc.VCenterVM, shut.VMs)
	}
	ha := &haVerifyRestart{}
	params := fmt.Sprintf(`{failed_host: esx-70, vms: [%s], within: 4m, tools: true}`, quoteAll(shut.VMs))
	res, err = ha.Execute(ctx, rt, steptest.Decode(t, ha, params))
	if err != nil {
		t.Fatalf("verify_restart across vCenter's own outage: %v\nnotes: %+v", err, rt.Notes)
	}
	if v := res.(*haVerifyResult); !v.AllRestarted {
		t.Fatalf("not all restarted: %+v", v)
	}
	for _, want := range [][]string{{"cannot be reached"}, {"answers again"}, {"ended the session", "logged in again"}} {
		if notesWith(rt.Notes, want...) == 0 {
			t.Errorf("no note with %q: %+v", want, rt.Notes)
		}
	}
	// The finally steps of the drill on the returned vCenter: the host is
	// powered on at its BMC (vCenter cannot), and waited for.
	if err := s.PowerOnHost("esx-70"); err != nil {
		t.Fatal(err)
	}
	wait := kindNamed(t, "vcenter.host.wait_connected")
	if _, err := wait.Execute(ctx, rt, steptest.Decode(t, wait, `{host: esx-70, within: 4m}`)); err != nil {
		t.Fatalf("wait_connected after the outage: %v", err)
	}
}
