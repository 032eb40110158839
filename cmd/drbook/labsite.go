package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"

	"github.com/drbook/drbook/lab"
	"github.com/drbook/drbook/lab/vc"
	"github.com/drbook/drbook/site"
)

// The lab site's names, as runbooks see them. labSiteShape and labSite
// build from the same lists so that validate --lab and run --lab agree.
var (
	labHosts    = []string{"esx-68", "esx-69", "esx-70"}
	labGuests   = []string{"ap02", "ap03"}
	labServices = []string{"ap_web", "ap_standby"}
)

// labSiteShape is the lab's site as validate sees it: the names of its
// hosts, guests and services, without starting anything.
func labSiteShape() *site.Site {
	s := &site.Site{Name: "sanchong-lab", Lab: true, VCenter: &site.VCenter{URL: "https://lab/sdk"},
		Hosts: map[string]site.Host{}, Guests: map[string]site.Guest{}, Services: map[string]site.Service{}}
	for _, h := range labHosts {
		s.Hosts[h] = site.Host{Name: h, BMC: "http://lab/redfish/v1/Systems/1"}
	}
	for g, vm := range map[string]string{"ap02": lab.SourceVM, "ap03": lab.TargetVM} {
		s.Guests[g] = site.Guest{VM: vm, Address: "lab", Port: 22, User: "root"}
	}
	for _, sv := range labServices {
		s.Services[sv] = site.Service{URL: "http://lab/"}
	}
	return s
}

// labSite describes a running lab as a site: every secret is a file
// reference, every key and certificate pinned.
func labSite(l *lab.Lab) (*site.Site, error) {
	pwFile := filepath.Join(l.Dir, "vcenter-password")
	if err := os.WriteFile(pwFile, []byte(l.VCenter.Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	s := labSiteShape()
	s.VCenter = &site.VCenter{URL: l.VCenter.URL.String(), User: l.VCenter.User,
		Password: site.SecretRef{Source: "file", Name: pwFile}, Thumbprints: []string{l.VCenter.ThumbprintSHA256},
		Datacenter: vc.DatacenterName}
	for _, h := range labHosts {
		n, _ := strconv.Atoi(h[len(h)-2:])
		s.Hosts[h] = site.Host{Name: h, Address: l.VCenter.Options().HostIP(n), BMC: l.VCenter.BMCURL(h)}
	}
	for _, name := range labGuests {
		g, ok := l.Guests[name]
		if !ok {
			return nil, i18n.Errorf("the lab has no guest %s", "模擬環境中無客體 %s", name)
		}
		s.Guests[name] = site.Guest{VM: g.VM, Address: g.Address, Port: g.Port, User: g.User, KeyFile: l.KeyFile,
			HostKeys: []string{g.HostKey}, Legacy: g.Legacy}
	}
	s.Services["ap_web"] = site.Service{URL: fmt.Sprintf("http://%s:%d/moiland/", l.Guests["ap02"].Address, lab.HTTPPort)}
	s.Services["ap_standby"] = site.Service{URL: fmt.Sprintf("http://%s:%d/moiland/", l.Guests["ap03"].Address, lab.HTTPPort)}
	return s, nil
}

func init() {
	startLab = func(ctx context.Context, o *siteOptions) (*site.Site, func(), error) {
		l, err := lab.Start(ctx, lab.Options{Speed: o.LabSpeed, StaleBackups: o.LabStaleBackups})
		if err != nil {
			return nil, nil, i18n.Errorf("cannot start the lab: %w", "無法啟動模擬環境：%w", err)
		}
		s, err := labSite(l)
		if err != nil {
			l.Close()
			return nil, nil, err
		}
		return s, l.Close, nil
	}
}

// labStateName is the file in a lab run's directory that holds the lab's
// world (vCenter state and the loopback block) after the last step.
const labStateName = "lab-state.json"

// labStateFile is the JSON of lab-state.json.
type labStateFile struct {
	Block     int             `json:"block"`
	AfterStep string          `json:"after_step,omitempty"`
	SavedAt   time.Time       `json:"saved_at"`
	VCenter   json.RawMessage `json:"vcenter"`
}

// labOfRun is a lab that belongs to a run: the guests' files live in the
// run directory (lab/) and the vCenter's state is saved there before each
// step's finish is journaled, so `drbook resume` meets the same world.
type labOfRun struct {
	lab    *lab.Lab
	site   *site.Site
	runDir string
	mu     sync.Mutex
	err    error
}

// startRunLab starts the lab of the run in runDir, restoring the world
// saved there by an earlier session.
func startRunLab(ctx context.Context, o *siteOptions, runDir string, warn io.Writer) (*labOfRun, error) {
	opts := lab.Options{Speed: o.LabSpeed, StaleBackups: o.LabStaleBackups, Dir: filepath.Join(runDir, "lab"), FailRestart: o.labFailRestart}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, i18n.Errorf("cannot create the lab's directory in the run: %w", "無法於執行目錄中建立模擬環境之目錄：%w", err)
	}
	if b, err := os.ReadFile(filepath.Join(runDir, labStateName)); err == nil {
		var st labStateFile
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, i18n.Errorf("%s: %w; the lab's saved world is unreadable (move the file away to start the lab afresh)", "%s：%w；無法讀取模擬環境已儲存之狀態（請將該檔移走以重新開始模擬環境）", filepath.Join(runDir, labStateName), err)
		}
		opts.Block, opts.KeepGuests = st.Block, true
		if len(st.VCenter) > 0 {
			opts.Restore = st.VCenter
		}
	}
	l, err := lab.Start(ctx, opts)
	if err != nil && opts.Block != 0 {
		// Another lab holds the block: the guests' files name its
		// addresses, so they are seeded afresh in a free block.
		fmt.Fprintf(warn, "drbook: warning: the lab's loopback block 127.%d.0.0/16 is taken (%v); the guests' files are seeded afresh in another block\n", opts.Block, err)
		opts.Block, opts.KeepGuests = 0, false
		os.RemoveAll(filepath.Join(opts.Dir, "guests"))
		l, err = lab.Start(ctx, opts)
	}
	if err != nil {
		return nil, i18n.Errorf("cannot start the lab: %w", "無法啟動模擬環境：%w", err)
	}
	s, err := labSite(l)
	if err != nil {
		l.Close()
		return nil, err
	}
	rl := &labOfRun{lab: l, site: s, runDir: runDir}
	if err := rl.save(""); err != nil {
		l.Close()
		return nil, err
	}
	return rl, nil
}

// save writes the lab's state atomically (temporary file, fsync, rename).
func (r *labOfRun) save(afterStep string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	vcState, err := r.lab.VCenter.State()
	if err != nil {
		return i18n.Errorf("cannot read the lab's state: %w", "無法讀取模擬環境之狀態：%w", err)
	}
	b, err := json.MarshalIndent(labStateFile{Block: r.lab.Block, AfterStep: afterStep, SavedAt: time.Now().UTC(), VCenter: vcState}, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(r.runDir, labStateName)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return i18n.Errorf("cannot save the lab's state in %s: %w", "無法將模擬環境之狀態儲存於 %s：%w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return i18n.Errorf("cannot save the lab's state in %s: %w", "無法將模擬環境之狀態儲存於 %s：%w", path, err)
	}
	return nil
}

// beforeFinish is the engine's Config.BeforeFinish: a failed save is
// reported once and the run goes on (the journal stays the record).
func (r *labOfRun) beforeFinish(warn io.Writer) func(step string) {
	return func(step string) {
		if err := r.save(step); err != nil {
			r.mu.Lock()
			first := r.err == nil
			r.err = err
			r.mu.Unlock()
			if first {
				fmt.Fprintf(warn, "drbook: warning: %v; a resumed run may meet a different lab\n", err)
			}
		}
	}
}

func (r *labOfRun) close() { r.lab.Close() }

// loadLabRunbook loads a runbook against the run's lab.
func (o *siteOptions) loadLabRunbook(rl *labOfRun, path string, vars map[string]string) (*runbooks.Runbook, error) {
	return runbooks.Load(path, runbooks.Options{Registry: all.Registry(), Vars: vars, Values: o.values, Site: rl.site})
}

// labRunDir chooses a new lab run's directory before the lab starts (the
// lab's files go inside it): the runbook is loaded against the lab's shape
// only to learn its name.
func (o *runOptions) labRunDir(path string, vars map[string]string) (string, error) {
	rb, err := runbooks.Load(path, runbooks.Options{Registry: all.Registry(), Vars: vars, Values: o.values, Site: labSiteShape()})
	if err != nil {
		return "", err
	}
	now := time.Now()
	dir := filepath.Join(o.RunsDirOrDefault(), engine.RunDirName(now, rb.Name))
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			break
		}
		dir = filepath.Join(o.RunsDirOrDefault(), fmt.Sprintf("%s-%d", engine.RunDirName(now, rb.Name), i))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", i18n.Errorf("cannot create the run directory: %w (choose another with --runs-dir)", "無法建立執行目錄：%w（請以 --runs-dir 指定其他位置）", err)
	}
	return dir, nil
}
