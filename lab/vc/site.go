// Package vc is the embedded lab's vCenter: a govmomi simulator (vcsim)
// serving the reference site of DOMAIN.md (datacenter "Sanchong", one HA
// cluster of hosts esx-68, esx-69 and esx-70, 30 VMs) over real HTTPS SOAP on
// a loopback address, extended with the behaviour a disaster-recovery drill
// needs and vcsim lacks: host shutdown, reboot and power-up, a host that is
// down the way vCenter shows one, a vSphere HA agent that declares a silent
// host failed after the heartbeat timeout and restarts its VMs on the
// surviving hosts (posting the real HA event ids), standby, the hosts' BMCs,
// vCenter's own endpoint going down with its VM, session expiry, and a
// power hook the lab's guests follow. lab/README.md lists every modelled
// behaviour and where it differs from vCenter.
//
// drbook talks to it exactly as to a real vCenter; nothing here imports
// drbook. Time is scaled by Options.Speed so a drill that takes a minute on
// the reference site takes a couple of seconds here, and GroundTruth records
// when the simulator really powered each VM on, so a benchmark can measure
// how late drbook noticed.
//
// The extension works without editing vcsim: host methods vcsim lacks are
// answered by a per-session wrapper object (see dispatch.go), and every
// property change goes through Registry.Update so the PropertyCollector
// (WaitForUpdatesEx) sees it.
package vc

import (
	"container/heap"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Defaults for Options, in lab time (what the reference site would take).
// With the default Speed of 30 a host failure is detected 0.5 s after the
// host dies and its VMs answer on their IPs about 1.7 s later.
const (
	DefaultSpeed                = 30
	DefaultHeartbeatTimeout     = 15 * time.Second
	DefaultHostShutdownDelay    = 3 * time.Second
	DefaultHostBootDelay        = 90 * time.Second
	DefaultVMBootDelay          = 30 * time.Second
	DefaultRestartBatchSize     = 2
	DefaultRestartBatchInterval = 5 * time.Second
	DefaultHostMemoryGB         = 80
	// DefaultCopyRate is how fast a clone or a storage vMotion copies a
	// disk: 100 MB/s, what one 8 Gbps FC path to the SAN sustains for a
	// copy that reads and writes the same array.
	DefaultCopyRate = 100 << 20
	// DefaultVMotionRate is how fast vMotion copies a running VM's memory
	// over the 1 Gbps vMotion network (about 110 MB/s), before the
	// switch-over.
	DefaultVMotionRate = 110 << 20
)

// Options configures a lab vCenter. The zero value is usable: block
// 127.0.0.0/16, an ephemeral port, the defaults above.
type Options struct {
	// Block is X in the loopback block 127.X.0.0/16 this site lives in:
	// vCenter listens on 127.X.0.227, host esx-NN's management address is
	// 127.X.0.NN and a VM named "(NN)…" has guest IP 127.X.0.NN. Concurrent
	// labs must use different blocks.
	Block int
	// Port is the HTTPS port; 0 picks a free one.
	Port int
	// Speed is how many times faster lab time runs than real time (30 means
	// a 15 s heartbeat timeout takes 0.5 s); 0 means DefaultSpeed, 1 gives
	// the real timings.
	Speed float64
	// HeartbeatTimeout is how long (lab time) the HA agent waits after a host
	// stops heartbeating before it declares the host failed.
	HeartbeatTimeout time.Duration
	// HostShutdownDelay is how long (lab time) a host takes to go down after
	// ShutdownHost_Task or RebootHost_Task succeeds.
	HostShutdownDelay time.Duration
	// HostBootDelay is how long (lab time) a host takes from power-up (or the
	// reboot) until vCenter sees it connected again.
	HostBootDelay time.Duration
	// VMBootDelay is how long (lab time) a VM's guest takes from power-on
	// until VMware Tools run and the guest IP appears.
	VMBootDelay time.Duration
	// RestartBatchSize is how many VMs the HA agent powers on at once;
	// RestartBatchInterval (lab time) separates the batches.
	RestartBatchSize     int
	RestartBatchInterval time.Duration
	// HostMemoryGB is each host's memory; HA never starts a VM on a host
	// whose powered-on VMs' memory would then exceed it.
	HostMemoryGB int
	// CopyRate (bytes per lab second) is how fast a clone or a storage
	// vMotion copies a VM's disk; VMotionRate how fast vMotion copies its
	// memory. 0 means the defaults above.
	CopyRate, VMotionRate int64
	// NoDRS turns the cluster's DRS off, as on a site with the Standard
	// licence: entering maintenance mode with VMs running is then refused
	// instead of evacuating them by vMotion.
	NoDRS bool
	// FailRestart names VMs that vSphere HA fails to restart: they stay down
	// and a VmFailoverFailed event is posted, as when a restart fails on
	// the reference site.
	FailRestart []string
	// Restore is a Site.State() from an earlier lab; the new lab starts with
	// its host power states, VM placement, power states and events, and
	// finishes whatever the saved lab was in the middle of (a host going
	// down or booting, an HA heartbeat timeout, restart batches, guests
	// booting) with the lab time that was left when the state was saved.
	Restore []byte
	// OnPowerChange, when set, is registered as by Site.OnPowerChange
	// before anything runs: a restored lab may power a VM on the moment it
	// starts, before Start's caller could register a hook itself.
	OnPowerChange func(vm string, on bool)
}

// GuestIP returns the lab address of the VM whose name starts with
// "(suffix)", e.g. GuestIP(65) is 127.X.0.65 for "(65)apfg(02)".
func (o Options) GuestIP(suffix int) string {
	return fmt.Sprintf("127.%d.0.%d", o.Block, suffix)
}

// HostIP returns the management address of host esx-<suffix>.
func (o Options) HostIP(suffix int) string { return o.GuestIP(suffix) }

// VCenterIP is the address vCenter listens on: the guest IP of "(227)VCenter".
func (o Options) VCenterIP() string { return o.GuestIP(227) }

func (o Options) withDefaults() (Options, error) {
	if o.Block < 0 || o.Block > 255 {
		return o, fmt.Errorf("lab vcenter: Options.Block %d is outside 0..255 (it is X in 127.X.0.0/16)", o.Block)
	}
	if o.Port < 0 || o.Port > 65535 {
		return o, fmt.Errorf("lab vcenter: Options.Port %d is not a TCP port", o.Port)
	}
	if o.Speed < 0 {
		return o, fmt.Errorf("lab vcenter: Options.Speed %g is negative (use 1 for real time, 30 for the default)", o.Speed)
	}
	if o.Speed == 0 {
		o.Speed = DefaultSpeed
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HeartbeatTimeout, DefaultHeartbeatTimeout)
	def(&o.HostShutdownDelay, DefaultHostShutdownDelay)
	def(&o.HostBootDelay, DefaultHostBootDelay)
	def(&o.VMBootDelay, DefaultVMBootDelay)
	def(&o.RestartBatchInterval, DefaultRestartBatchInterval)
	if o.RestartBatchSize <= 0 {
		o.RestartBatchSize = DefaultRestartBatchSize
	}
	if o.HostMemoryGB <= 0 {
		o.HostMemoryGB = DefaultHostMemoryGB
	}
	if o.CopyRate <= 0 {
		o.CopyRate = DefaultCopyRate
	}
	if o.VMotionRate <= 0 {
		o.VMotionRate = DefaultVMotionRate
	}
	return o, nil
}

// Site is a running lab vCenter.
type Site struct {
	// URL is the SDK endpoint, https://127.X.0.227:PORT/sdk, without user info.
	URL *url.URL
	// User and Password log in; the password is generated per lab and must
	// not be logged.
	User, Password string
	// ThumbprintSHA256 and ThumbprintSHA1 pin the certificate, in the
	// colon-separated upper-case hex form govc prints.
	ThumbprintSHA256, ThumbprintSHA1 string
	// CertPEM is the self-signed server certificate (it is its own CA).
	CertPEM []byte

	opts   Options
	clock  *labClock
	model  *simulator.Model
	server *simulator.Server
	dirs   []string
	// endpoint and front serve the API on URL (see endpoint.go).
	endpoint  *endpoint
	front     *http.Server
	frontDone chan struct{}
	bmcs      []*bmc

	base       context.Context    // outlives Start's caller; lock identity only
	agent      *simulator.Context // template for the lab's own contexts (see op)
	dcRef      types.ManagedObjectReference
	clusterRef types.ManagedObjectReference

	// tx serializes the lab's own transitions (a host dying or booting,
	// HA declaring a failure and restarting a batch, a guest booting)
	// with State, so a saved state never holds half a transition: a VM
	// powered on without its restart event, or an event without its VM.
	// Lock order: tx, then vcsim's object locks, then mu. API calls,
	// which run under vcsim's locks, only take mu.
	tx sync.Mutex
	// observe, when set (by tests, under tx), is called under tx just
	// before (done false) and after (done true) each transition, so a
	// test can see every state the lab passes through, however late its
	// timers run.
	observe func(done bool)

	mu        sync.Mutex
	failovers []*failover
	hosts     map[types.ManagedObjectReference]*hostState
	vms       map[types.ManagedObjectReference]*vmState
	truth     []Restart
	hooks     []func(vm string, on bool)
	posted    []postedEvent
	failVM    map[string]bool
	closed    bool
	// schedule holds the transitions to come, run by runSchedule.
	schedule    schedule
	seq         int
	rescheduled chan struct{}
	scheduler   sync.WaitGroup
	// pending counts transitions scheduled and not yet finished: zero
	// when the lab has done everything it was in the middle of.
	pending int
	queue   []powerChange
	wake    *sync.Cond // signals queue and closed, with mu
	// idle signals, with mu, that pending, queue or delivering changed.
	idle       *sync.Cond
	delivering int
	done       chan struct{}
	notified   sync.WaitGroup
}

// Start builds the reference inventory and serves it until ctx is done or
// Close is called.
func Start(ctx context.Context, opts Options) (*Site, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Site{
		opts:        opts,
		clock:       newLabClock(opts.Speed, time.Now()),
		hosts:       map[types.ManagedObjectReference]*hostState{},
		vms:         map[types.ManagedObjectReference]*vmState{},
		failVM:      map[string]bool{},
		rescheduled: make(chan struct{}, 1),
		done:        make(chan struct{}),
	}
	s.wake = sync.NewCond(&s.mu)
	s.idle = sync.NewCond(&s.mu)
	s.scheduler.Add(1)
	go s.runSchedule()
	for _, name := range opts.FailRestart {
		s.failVM[name] = true
	}
	if opts.OnPowerChange != nil {
		s.hooks = append(s.hooks, opts.OnPowerChange)
	}
	if err := s.build(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// The transitions a restore schedules wait until the lab is complete,
	// power watcher included (serve installs it).
	s.tx.Lock()
	err = nil
	if opts.Restore != nil {
		err = s.restore(opts.Restore)
	}
	if err == nil {
		err = s.serve()
	}
	s.tx.Unlock()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.notified.Add(1)
	go s.deliverPowerChanges()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// serve starts HTTPS on the lab address with a fresh self-signed certificate
// and generated credentials. The address is the lab's own endpoint (see
// endpoint.go), serving vcsim's handlers, so it can go down with
// VCenterVM; vcsim's own listener is left on an ephemeral port nobody is
// told about.
func (s *Site) serve() (err error) {
	addr := net.JoinHostPort(s.opts.VCenterIP(), strconv.Itoa(s.opts.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("lab vcenter: cannot listen on %s: %w (choose another Options.Block or Port)", addr, err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	addr = ln.Addr().String()

	cert, err := selfSignedCert(s.opts.VCenterIP())
	if err != nil {
		return fmt.Errorf("lab vcenter: generating the TLS certificate: %w", err)
	}
	s.User = "administrator@vsphere.local"
	s.Password, err = randomSecret()
	if err != nil {
		return fmt.Errorf("lab vcenter: generating the password: %w", err)
	}
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	s.ThumbprintSHA256 = soap.ThumbprintSHA256(leaf)
	s.ThumbprintSHA1 = soap.ThumbprintSHA1(leaf)
	s.CertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})

	svc := s.model.Service
	svc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	svc.Listen = &url.URL{Host: net.JoinHostPort(s.opts.VCenterIP(), "0"), User: url.UserPassword(s.User, s.Password)}

	s.installDispatch()

	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("lab vcenter: starting the HTTPS server: %v", r)
		}
	}()
	s.server = svc.NewServer()
	s.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	// Links vcsim hands out (NFC leases, datastore files) name the address
	// clients know.
	s.model.Map().SessionManager().ServiceHostName = addr

	s.endpoint = newEndpoint(ln)
	s.front = &http.Server{
		Handler: s.endpoint.handler(svc.ServeMux),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"}},
		// HTTP/1.1 only, as vCenter's SOAP endpoint and vcsim speak.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		// Clients that pin a thumbprint (govmomi, govc, drbook) first try
		// normal verification and abort that handshake; the server would
		// log each one.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	if on, ok := s.machineOnLocked(VCenterVM); ok && !on {
		_ = s.endpoint.set(endpointOff)
	} else if ok && s.guestBootingLocked(VCenterVM) {
		_ = s.endpoint.set(endpointStarting)
	}
	s.frontDone = make(chan struct{})
	go func() {
		defer close(s.frontDone)
		_ = s.front.ServeTLS(s.endpoint, "", "")
	}()
	s.URL = &url.URL{Scheme: "https", Host: addr, Path: "/sdk"}
	return s.startBMCs()
}

// machineOnLocked reports whether the named VM's machine runs; callers
// hold s.mu or run before the lab is served.
func (s *Site) machineOnLocked(vm string) (on, ok bool) {
	for _, v := range s.vms {
		if v.name == vm {
			return v.on, true
		}
	}
	return false, false
}

// guestBootingLocked reports whether the named VM's guest is booting.
func (s *Site) guestBootingLocked(vm string) bool {
	for _, v := range s.vms {
		if v.name == vm {
			return v.on && !v.readyAt.IsZero()
		}
	}
	return false
}

// vcenterPowered follows VCenterVM's machine: off takes the endpoint
// down, on brings it back answering 503 until the guest has booted.
// Callers hold s.mu.
func (s *Site) vcenterPowered(on bool) {
	if s.endpoint == nil {
		return
	}
	state := endpointOff
	if on {
		state = endpointStarting
	}
	if err := s.endpoint.set(state); err != nil {
		log.Printf("lab vcenter: bringing the endpoint back on %s: %v", s.endpoint.addr, err)
	}
}

// vcenterBooted is VCenterVM's guest finishing its boot: vpxd has
// restarted, so every session of before is gone, and the API answers.
// Callers hold s.tx and no other lock.
func (s *Site) vcenterBooted() {
	if s.endpoint == nil {
		return
	}
	s.ExpireSessions()
	_ = s.endpoint.set(endpointUp)
}

// Close stops the server, the HA agent and every pending timer, and removes
// the datastore directories. It is safe to call more than once.
func (s *Site) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.schedule = nil
	close(s.done)
	s.wake.Broadcast()
	s.idle.Broadcast()
	s.mu.Unlock()
	// A transition in progress finishes before vcsim goes away.
	s.scheduler.Wait()
	s.cleanup()
	s.notified.Wait()
}

func (s *Site) cleanup() {
	s.closeBMCs()
	if s.front != nil {
		s.front.Close()
		<-s.frontDone
	}
	if s.server != nil {
		s.server.Close()
	}
	if s.model != nil {
		s.model.Remove()
	}
	for _, d := range s.dirs {
		_ = os.RemoveAll(d)
	}
}

// Model is the underlying simulator model, for tests that inject faults
// (Model().Service.AddFaultRule) or inspect objects directly. Changing
// objects behind the lab's back bypasses its HA bookkeeping.
func (s *Site) Model() *simulator.Model { return s.model }

// Options returns the options the lab runs with, defaults filled in.
func (s *Site) Options() Options { return s.opts }

// Now is the current lab time.
func (s *Site) Now() time.Time { return s.clock.Now() }

// OnPowerChange registers f to be called, in order and never concurrently,
// whenever a VM's actual power changes: its host dies (off), HA restarts it
// (on), or a power operation through the API completes. vCenter may keep
// showing a dead host's VMs as poweredOn; f follows the machine, not the
// display.
func (s *Site) OnPowerChange(f func(vm string, on bool)) {
	s.mu.Lock()
	s.hooks = append(s.hooks, f)
	s.mu.Unlock()
}

// ExpireSessions drops every login, as vCenter does after its idle timeout:
// the next call with an old session cookie answers NotAuthenticated, and a
// new Login works.
func (s *Site) ExpireSessions() {
	m := s.model.Map()
	sm := m.SessionManager()
	view := &simulator.Session{
		UserSession: types.UserSession{Key: "lab-session-expiry"},
		Registry:    simulator.NewRegistry(),
		Map:         m,
	}
	// Session.Get returns a SessionManager view listing every live session.
	list := view.Get(sm.Self).(*simulator.SessionManager).SessionList
	ctx := s.newContext(view)
	for _, us := range list {
		sm.TerminateSession(ctx, &types.TerminateSession{This: sm.Self, SessionId: []string{us.Key}})
	}
}

// WaitIdle returns once the lab has finished everything it was in the
// middle of (hosts going down or booting, HA's heartbeat timeouts and
// restart batches, guests booting) and the power hooks have seen every
// change, or when ctx ends or the lab closes. It is how a test waits for
// the lab without a wall-clock bound: the wait ends on the lab's own
// events, however busy the machine is.
func (s *Site) WaitIdle(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.idle.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for (s.pending > 0 || len(s.queue) > 0 || s.delivering > 0) && !s.closed && ctx.Err() == nil {
		s.idle.Wait()
	}
	return ctx.Err()
}

// labClock maps real time to lab time, which runs Speed times faster.
type labClock struct {
	speed    float64
	realBase time.Time
	labBase  time.Time
}

func newLabClock(speed float64, now time.Time) *labClock {
	return &labClock{speed: speed, realBase: now, labBase: now}
}

// Now is the current lab time.
func (c *labClock) Now() time.Time { return c.at(time.Now()) }

func (c *labClock) at(real time.Time) time.Time {
	return c.labBase.Add(time.Duration(float64(real.Sub(c.realBase)) * c.speed))
}

// Real converts a lab duration to the real duration it takes.
func (c *labClock) Real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.speed)
}

// after runs f once lab duration d has passed, unless the site closes first.
func (s *Site) after(d time.Duration, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterLocked(d, f)
}

// at runs f at lab time deadline (at once if it has passed).
func (s *Site) at(deadline time.Time, f func()) {
	s.after(deadline.Sub(s.clock.Now()), f)
}

// atLocked is at for callers that hold s.mu. A transition that follows
// another schedules from the deadline the first was due at, not from when
// its timer fired: a late timer (a busy machine) then delays only itself,
// and the lab's timeline does not drift with each step of a chain.
func (s *Site) atLocked(deadline time.Time, f func()) {
	s.afterLocked(deadline.Sub(s.clock.Now()), f)
}

// afterLocked is after for callers that hold s.mu. f joins the lab's
// schedule at lab time now+d (in the past when d is negative).
func (s *Site) afterLocked(d time.Duration, f func()) {
	if s.closed {
		return
	}
	s.pending++
	s.seq++
	heap.Push(&s.schedule, &scheduled{at: s.clock.Now().Add(d), seq: s.seq, f: f})
	select {
	case s.rescheduled <- struct{}{}:
	default:
	}
}

// scheduled is one transition in the lab's schedule.
type scheduled struct {
	at  time.Time // lab time it is due
	seq int       // scheduling order, for transitions due at once
	f   func()
}

// schedule is a min-heap of transitions by due time.
type schedule []*scheduled

func (h schedule) Len() int { return len(h) }
func (h schedule) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h schedule) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *schedule) Push(x any)   { *h = append(*h, x.(*scheduled)) }
func (h *schedule) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// runSchedule runs the lab's transitions one at a time, in the order they
// are due. One goroutine and a due-ordered heap, not a timer each: timers
// that fire late on a busy machine would race for the lab and could run
// a later transition first (a host connecting before the HA batch due
// before it), which the reference site never does.
func (s *Site) runSchedule() {
	defer s.scheduler.Done()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		if len(s.schedule) > 0 && !s.schedule[0].at.After(s.clock.Now()) {
			next := heap.Pop(&s.schedule).(*scheduled)
			s.mu.Unlock()
			next.f()
			s.mu.Lock()
			s.pending--
			s.idle.Broadcast()
			s.mu.Unlock()
			continue
		}
		var due <-chan time.Time
		var timer *time.Timer
		if len(s.schedule) > 0 {
			timer = time.NewTimer(max(s.clock.Real(s.schedule[0].at.Sub(s.clock.Now())), 0))
			due = timer.C
		}
		s.mu.Unlock()
		select {
		case <-due:
		case <-s.rescheduled:
		case <-s.done:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// transition runs f as one of the lab's own transitions (see Site.tx).
func (s *Site) transition(f func()) func() {
	return func() {
		s.tx.Lock()
		defer s.tx.Unlock()
		if s.observe != nil {
			s.observe(false)
		}
		f()
		if s.observe != nil {
			s.observe(true)
		}
	}
}

// selfSignedCert makes an ECDSA certificate for the lab address; ECDSA
// because generating it is instant, and it is its own CA so CertPEM can
// also be trusted as a CA file.
func selfSignedCert(ip string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: ip, Organization: []string{"drbook lab vCenter"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP(ip)},
		DNSNames:              []string{"vcenter.lab"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
