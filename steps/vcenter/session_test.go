package vcenter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/steptest"
)

// terminateAll ends every session of the simulator but the test's own, as
// `govc session.rm` does for one and a vpxd restart does for all.
func (s *sim) terminateAll(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	sm := session.NewManager(s.client)
	own, err := sm.UserSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m mo.SessionManager
	if err := property.DefaultCollector(s.client).RetrieveOne(ctx, *s.client.ServiceContent.SessionManager, []string{"sessionList"}, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, us := range m.SessionList {
		if us.Key != own.Key {
			keys = append(keys, us.Key)
		}
	}
	if len(keys) == 0 {
		t.Fatal("no session to end")
	}
	if err := sm.TerminateSession(ctx, keys); err != nil {
		t.Fatal(err)
	}
}

func notesWith(notes []journal.Note, words ...string) int {
	n := 0
	for _, note := range notes {
		all := true
		for _, w := range words {
			all = all && strings.Contains(note.Text, w)
		}
		if all {
			n++
		}
	}
	return n
}

// TestReloginAfterSessionRemoved ends drbook's session in plain vcsim
// (simulator.VPX over HTTPS) between steps, with and without the site's
// datacenter. With a datacenter, the first call of the next step is
// find.Datacenter's RetrieveProperties, which a dead session does not get
// as a fault but as NotAuthenticated inside each ObjectContent's
// MissingSet; the step must log in again all the same, and journal it.
func TestReloginAfterSessionRemoved(t *testing.T) {
	for name, dc := range map[string]string{"with datacenter": "DC0", "without datacenter": ""} {
		t.Run(name, func(t *testing.T) {
			s := newSim(t)
			s.site.VCenter.Datacenter = dc
			rt := s.runtime(t)
			inv := kindNamed(t, "vcenter.inventory")
			mustExecute(t, rt, inv, `{}`)
			sess, err := connect(context.Background(), rt)
			if err != nil {
				t.Fatal(err)
			}
			for round := 1; round <= 2; round++ {
				s.terminateAll(t)
				res := mustExecute(t, rt, inv, `{record: placement}`).(*inventoryResult)
				if len(res.VMs) == 0 {
					t.Fatalf("round %d: inventory after the session was removed found no VMs", round)
				}
				// The finally steps of the drill: a host step after the end
				// of the session.
				s.terminateAll(t)
				mustExecute(t, rt, kindNamed(t, "vcenter.host.wait_connected"), `{host: `+h1+`, within: 10s}`)
				if got := sess.Relogins(); got != 2*round {
					t.Fatalf("round %d: %d re-logins, want %d", round, got, 2*round)
				}
			}
			if n := notesWith(rt.Notes, "ended the session", "NotAuthenticated", "logged in again"); n != 4 {
				t.Fatalf("%d re-login notes journaled, want 4: %+v", n, rt.Notes)
			}
		})
	}
}

// TestPinnedCertificateMismatchRefusedEvenWithAcceptNew: a pin that does
// not match is refused with both fingerprints whatever --accept-new says,
// and a CA that would vouch for the certificate does not override it.
func TestPinnedCertificateMismatchRefusedEvenWithAcceptNew(t *testing.T) {
	s := newSim(t)
	caFile, err := s.server.CertificateFile()
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	for name, c := range map[string]struct {
		acceptNew bool
		ca        string
	}{"plain": {}, "accept-new": {acceptNew: true}, "accept-new and a CA that trusts it": {acceptNew: true, ca: caFile}} {
		t.Run(name, func(t *testing.T) {
			vc := *s.site.VCenter
			vc.Thumbprints, vc.CAFile = []string{wrong}, c.ca
			rt := steptest.NewRuntime(t, &site.Site{Name: "sim", VCenter: &vc})
			rt.Opts.AcceptNew = c.acceptNew
			_, err := execute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`)
			var pm *PinMismatchError
			if !errors.As(err, &pm) {
				t.Fatalf("want a pin mismatch, got %v", err)
			}
			for _, want := range []string{wrong, s.sha256, s.sha1, "does NOT match", "--accept-new never overrides a pin"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
			if len(rt.Trusts) != 0 {
				t.Fatalf("a refused certificate was journaled as trusted: %+v", rt.Trusts)
			}
		})
	}
}

// TestUnknownCertificateShowsSHA1: the refusal of an unpinned certificate
// names its SHA-1 too, the form govc's known-hosts file and vcsim print.
func TestUnknownCertificateShowsSHA1(t *testing.T) {
	s := newSim(t)
	s.site.VCenter.Thumbprints = nil
	_, err := execute(t, s.runtime(t), kindNamed(t, "vcenter.inventory"), `{}`)
	var uc *UnknownCertificateError
	if !errors.As(err, &uc) || !strings.Contains(err.Error(), "SHA-1 "+s.sha1) || !strings.Contains(err.Error(), "SHA-256 "+s.sha256) {
		t.Fatalf("want both thumbprints in the refusal, got %v", err)
	}
}

// outageProxy stands between drbook and vcsim on a loopback port, passing
// TLS through untouched, and can take the endpoint down: while it is down
// the port refuses connections, as when vCenter's VM is off.
type outageProxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
	// dials counts the connections passed through.
	dials int
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{t: t, addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *outageProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.dials++
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer p.wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				dst.Close()
				src.Close()
			}
			p.wg.Add(2)
			go pipe(up, c)
			go pipe(c, up)
		}
	}()
}

// down closes the port and every connection through it.
func (p *outageProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// up listens on the same port again.
func (p *outageProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listening again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// noteSignal is a Runtime that also tells the test about each note.
type noteSignal struct {
	*steptest.Runtime
	notes chan string
}

func (n *noteSignal) Note(level, text string) {
	n.Runtime.Note(level, text)
	n.notes <- text
}

// NoteText is what steps.SayNote calls: kinds journal notes in both
// languages.
func (n *noteSignal) NoteText(level string, t journal.Text) {
	n.Runtime.NoteText(level, t)
	n.notes <- t.EN
}

// awaitNote returns once a note holding want arrives.
func (n *noteSignal) awaitNote(t *testing.T, want string, failed <-chan error) {
	t.Helper()
	for {
		select {
		case text := <-n.notes:
			if strings.Contains(text, want) {
				return
			}
		case err := <-failed:
			t.Fatalf("the step ended before a note with %q: %v", want, err)
		}
	}
}

// TestWaitRidesThroughVCenterOutage: while a step waits on the
// PropertyCollector, vCenter goes away (its port refuses connections),
// comes back with every session gone, and the VM changed meanwhile. The
// step sees the change within its own time limit, journals the outage and
// the re-login, and the next step works.
func TestWaitRidesThroughVCenterOutage(t *testing.T) {
	s := newSim(t)
	p := newOutageProxy(t, s.server.URL.Host)
	s.site.VCenter.URL = "https://" + p.addr + "/sdk"
	s.site.VCenter.Datacenter = "DC0"
	rt := &noteSignal{Runtime: s.runtime(t), notes: make(chan string, 100)}
	sess, err := connect(withRuntime(context.Background(), rt), rt)
	if err != nil {
		t.Fatal(err)
	}
	sess.retryMax = 20 * time.Millisecond

	done := make(chan error, 1)
	var res any
	go func() {
		var err error
		res, err = execute(t, rt, kindNamed(t, "vcenter.vm.wait"), `{vm: `+vm1+`, condition: 'power_state == "poweredOff"', within: 60s}`)
		done <- err
	}()
	// The wait is blocked in vCenter once WaitForUpdatesEx has been called.
	for !slices.Contains(s.calls(false), "WaitForUpdatesEx") {
		select {
		case err := <-done:
			t.Fatalf("the wait ended early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	p.down()
	rt.awaitNote(t, "cannot be reached", done)
	s.terminateAll(t) // vpxd restarted: every session is gone
	s.wait(t, s.vm(t, vm1).PowerOff)
	p.up()
	if err := <-done; err != nil {
		t.Fatalf("vm.wait across a vCenter outage: %v", err)
	}
	if got := res.(*vmWaitResult).Facts.PowerState; got != "poweredOff" {
		t.Fatalf("power state %s", got)
	}
	if sess.Relogins() != 1 {
		t.Fatalf("%d re-logins, want 1", sess.Relogins())
	}
	rt.Runtime.Close() // nothing else writes notes now
	for _, want := range [][]string{{"cannot be reached"}, {"answers again after"}, {"ended the session", "logged in again"}} {
		if notesWith(rt.Notes, want...) != 1 {
			t.Errorf("want one note with %q, got %+v", want, rt.Notes)
		}
	}
	mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`)
}

// TestOutageOutlastingTheStepFailsInTime: a vCenter that stays down fails
// the step when the step's context ends, saying so, instead of hanging.
func TestOutageOutlastingTheStepFailsInTime(t *testing.T) {
	s := newSim(t)
	p := newOutageProxy(t, s.server.URL.Host)
	s.site.VCenter.URL = "https://" + p.addr + "/sdk"
	rt := &noteSignal{Runtime: s.runtime(t), notes: make(chan string, 100)}
	inv := kindNamed(t, "vcenter.inventory")
	mustExecute(t, rt, inv, `{}`)
	p.down()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := inv.Execute(ctx, rt, steptest.Decode(t, inv, `{}`))
		done <- err
	}()
	rt.awaitNote(t, "cannot be reached", done)
	cancel()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("want an unreachable error, got %v", err)
	}
}

// TestReloginInAMonitorIsJournaledByTheNextStep: a monitor's runtime
// journals nothing but state changes, so a re-login its probe made is
// journaled by the next step that uses the session.
func TestReloginInAMonitorIsJournaledByTheNextStep(t *testing.T) {
	s := newSim(t)
	s.site.VCenter.Datacenter = "DC0"
	step := s.runtime(t)
	inv := kindNamed(t, "vcenter.inventory")
	mustExecute(t, step, inv, `{}`)
	// The monitor shares the step's session, as the engine's runtimes do.
	monitor := &steptest.Runtime{ID: "monitor:vm", SiteVal: s.site, Opts: step.Opts, Dir: t.TempDir()}
	shared, err := step.Shared(sharedKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.Shared(sharedKey, func() (io.Closer, error) { return shared, nil }); err != nil {
		t.Fatal(err)
	}
	s.terminateAll(t)
	mustExecute(t, monitor, inv, `{}`)
	if len(monitor.Notes) != 0 {
		t.Fatalf("the monitor's runtime was given notes: %+v", monitor.Notes)
	}
	mustExecute(t, step, inv, `{}`)
	if n := notesWith(step.Notes, "earlier, outside a step", "logged in again"); n != 1 {
		t.Fatalf("the next step journaled %d re-login notes, want 1: %+v", n, step.Notes)
	}
}

// taskFailsOnce answers a VM's first PowerOffVM_Task with a task that
// waits for release and then fails NotAuthenticated, as vCenter fails a
// task whose session ended under it; later calls go to vcsim's VM.
type taskFailsOnce struct {
	*simulator.VirtualMachine
	failed  *atomic.Bool
	release chan struct{}
}

func (v *taskFailsOnce) PowerOffVMTask(ctx *simulator.Context, req *types.PowerOffVM_Task) soap.HasFault {
	if !v.failed.CompareAndSwap(false, true) {
		return v.VirtualMachine.PowerOffVMTask(ctx, req)
	}
	task := simulator.CreateTask(v.VirtualMachine, "powerOff", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		<-v.release
		return nil, &types.NotAuthenticated{NoPermission: types.NoPermission{Object: &v.Self, PrivilegeId: "VirtualMachine.Interact.PowerOff"}}
	})
	return &methods.PowerOffVM_TaskBody{Res: &types.PowerOffVM_TaskResponse{Returnval: task.Run(ctx)}}
}

// TestTaskFailedNotAuthenticatedIsStartedAgain: the session ends while a
// task runs, and the task fails NotAuthenticated: it did nothing, so the
// step logs in again, journals it, and starts the task once more.
func TestTaskFailedNotAuthenticatedIsStartedAgain(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	ctx := context.Background()
	sess, err := connect(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	failed := new(atomic.Bool)
	release := make(chan struct{})
	inner := s.model.Map().Handler
	// vcsim prefers the calling session's registry: the wrapper goes there,
	// as lab/vc's host extension does.
	s.model.Map().Handler = func(c *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if m.Name == "PowerOffVM_Task" && c.Session != nil && c.Session.UserName != "" && !failed.Load() {
			if vm, ok := c.Map.Get(m.This).(*simulator.VirtualMachine); ok {
				c.WithLock(vm, func() { c.Session.Put(&taskFailsOnce{VirtualMachine: vm, failed: failed, release: release}) })
			}
		}
		return inner(c, m)
	}
	done := make(chan error, 1)
	var res any
	go func() {
		var err error
		res, err = execute(t, rt, kindNamed(t, "vcenter.vm.power"), `{vm: `+vm1+`, action: "off"}`)
		done <- err
	}()
	for !failed.Load() {
		select {
		case err := <-done:
			t.Fatalf("the step ended before its task: %v", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
	s.terminateAll(t)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := res.(*vmPowerResult); r.PowerState != "poweredOff" {
		t.Fatalf("%+v", r)
	}
	// The re-login may be met in a call govmomi makes on a context of its
	// own (destroying a wait's filter); the next step journals it then.
	mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`)
	if sess.Relogins() != 1 || notesWith(rt.Notes, "logged in again") != 1 || notesWith(rt.Notes, "NotAuthenticated") == 0 {
		t.Fatalf("re-logins %d, notes %+v", sess.Relogins(), rt.Notes)
	}
	if n := strings.Count(strings.Join(s.calls(false), " "), "PowerOffVM_Task"); n != 2 {
		t.Fatalf("PowerOffVM_Task sent %d times, want 2", n)
	}
}

// TestUnreachableTakesAClosedKeptAliveConnection: net/http reports a call
// written on a kept-alive connection that vCenter had just hung up on as
// net.ErrClosed inside the url.Error, with no OpError around it (seen in
// TestOutageOutlastingTheStepFailsInTime under load). A read-only call is
// sent again; a call that changes state is not, as for a broken connection.
func TestUnreachableTakesAClosedKeptAliveConnection(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "https://127.0.0.1:1/sdk", Err: net.ErrClosed}
	if !unreachable(err, "RetrieveProperties") {
		t.Errorf("unreachable(%v, RetrieveProperties) = false; want true", err)
	}
	if unreachable(err, "PowerOffVM_Task") {
		t.Errorf("unreachable(%v, PowerOffVM_Task) = true; want false (it may have reached vpxd)", err)
	}
}
