// Package lab is drbook's embedded simulated site: the reference site of
// DOMAIN.md as a vCenter (lab/vc) plus the Linux guests of the AP-server
// drill (lab/guest), wired so each guest follows its VM's power: when HA
// restarts "(65)apfg(02)" after its host dies, the guest's SSH and httpd go
// away with the host and come back when the VM has booted elsewhere.
//
// Every lab lives in a loopback block 127.X.0.0/16 of its own, reserved for
// its lifetime by a listener on 127.X.0.1, so labs started concurrently (by
// parallel tests, even in different processes) never collide. Lab exposes
// everything a site file needs. The package imports nothing of drbook.
// README.md lists every behaviour the lab models and where it differs
// from a real site.
package lab

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/lab/guest"
	"github.com/drbook/drbook/lab/vc"
)

// The AP-server drill's guests: the source whose backup is taken and the
// standby it is restored onto (DOMAIN.md, drill 2).
const (
	SourceVM = "(65)apfg(02)"
	TargetVM = "(66)apfg(03)"
)

// HTTPPort is where the AP server's httpd listens on its guest IP.
const HTTPPort = 8080

// blockReservationPort is the port on 127.X.0.1 whose listener reserves
// block X for one lab.
const blockReservationPort = 47227

// Options configures a lab. The zero value starts the reference lab at the
// default speed in a free block, in a temporary directory.
type Options struct {
	// Block forces the loopback block 127.X.0.0/16; 0 picks a free one.
	Block int
	// Speed, FailRestart and Restore are passed to the vCenter (vc.Options).
	Speed       float64
	FailRestart []string
	Restore     []byte
	// Dir holds the guests' files and the SSH key; empty means a temporary
	// directory removed by Close.
	Dir string
	// ModernSSH makes the guests offer today's SSH algorithms instead of
	// RHEL 5's OpenSSH 4.3 set.
	ModernSSH bool
	// KeepGuests keeps the guests' files an earlier lab left in Dir (a
	// resumed run's lab) instead of seeding them afresh. They hold the
	// guests' addresses (httpd's Listen), so Block must be the block they
	// were seeded in.
	KeepGuests bool
	// StaleBackups makes the AP server's nightly bkap.sh job one that
	// stopped this long ago (lab time): its newest archive in /APBACKUP is
	// that much older than last night's. 0 is a job that ran last night.
	StaleBackups time.Duration
}

// Lab is a running simulated site.
type Lab struct {
	// VCenter is the lab vCenter (URL, User, Password, ThumbprintSHA256…).
	VCenter *vc.Site
	// Block is X of the lab's 127.X.0.0/16.
	Block int
	// Guests are the drill's guests by site key: "ap02" (the source) and
	// "ap03" (the restore target).
	Guests map[string]*Guest
	// KeyFile is the private key (PEM, RSA) every guest accepts for every
	// user; PublicKey is its authorized_keys line.
	KeyFile, PublicKey string
	// Dir holds the guests' roots and the key.
	Dir string

	reservation net.Listener
	ownDir      bool
	closeOnce   sync.Once
}

// Guest is one simulated guest as a site file names it.
type Guest struct {
	// VM is the guest's VM name in the lab vCenter.
	VM string
	// Address and Port reach its SSH server; User logs in with Lab.KeyFile.
	Address string
	Port    int
	User    string
	// HostKey is the pinned host key as an authorized_keys line and
	// HostKeyFingerprint its "SHA256:…" form.
	HostKey, HostKeyFingerprint string
	// Legacy is true when the guest offers only RHEL 5's algorithms.
	Legacy bool
	// HTTPURL is the AP application's URL when the guest serves it
	// (empty for the restore target until the drill has configured it).
	HTTPURL string
	// Sim is the simulated machine, for tests.
	Sim *guest.Guest
}

// Start starts the vCenter and the guests and wires the guests to their
// VMs' power. Close releases everything.
func Start(ctx context.Context, opts Options) (*Lab, error) {
	l := &Lab{Guests: map[string]*Guest{}}
	if err := l.reserveBlock(opts.Block); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()

	l.Dir = opts.Dir
	if l.Dir == "" {
		dir, err := os.MkdirTemp("", "drbook-lab-")
		if err != nil {
			return nil, fmt.Errorf("lab: creating a working directory: %w", err)
		}
		l.Dir, l.ownDir = dir, true
	}
	signer, err := l.writeClientKey()
	if err != nil {
		return nil, err
	}

	// The guests follow their VMs' power through a hook registered before
	// the vCenter starts: a restored vCenter may power a VM on (HA's next
	// restart batch) before the guests exist. Until a guest is in follow,
	// its changes are picked up from MachineOn below.
	var follow struct {
		sync.Mutex
		guests map[string]*guest.Guest
	}
	follow.guests = map[string]*guest.Guest{}
	onPower := func(vm string, on bool) {
		follow.Lock()
		defer follow.Unlock()
		if g := follow.guests[vm]; g != nil {
			g.SetPowered(on)
		}
	}
	site, err := vc.Start(ctx, vc.Options{Block: l.Block, Speed: opts.Speed, FailRestart: opts.FailRestart, Restore: opts.Restore, OnPowerChange: onPower})
	if err != nil {
		return nil, err
	}
	l.VCenter = site
	vopts := site.Options()
	boot := time.Duration(float64(vopts.VMBootDelay) / vopts.Speed)

	specs := []struct {
		key, vm, hostname string
		seed              func(root, hostname, ip string) error
		serves            bool
	}{
		{"ap02", SourceVM, "apfg02.land.local", func(root, h, ip string) error {
			return guest.SeedAPServerWith(root, h, ip, HTTPPort, guest.LastNightlyRun(site.Now()).Add(-opts.StaleBackups))
		}, true},
		{"ap03", TargetVM, "apfg03.land.local", guest.SeedEmptyServer, false},
	}
	for _, sp := range specs {
		ip := vopts.GuestIP(vcSuffix(sp.vm))
		root := filepath.Join(l.Dir, "guests", sp.key)
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, fmt.Errorf("lab: creating guest directory %s: %w", root, err)
		}
		seed := sp.seed
		if opts.KeepGuests && !emptyDir(root) {
			seed = nil
		}
		hostname := sp.hostname
		hostKey, err := hostKeySigner(l.Dir, sp.key, !opts.ModernSSH)
		if err != nil {
			return nil, err
		}
		g, err := guest.Start(guest.Config{
			HostKey:        hostKey,
			Hostname:       hostname,
			Address:        ip,
			Root:           root,
			AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()},
			Legacy:         !opts.ModernSSH,
			BootDelay:      boot,
			Clock:          site.Now,
			Seed: func(root string) error {
				if seed == nil {
					return nil
				}
				return seed(root, hostname, ip)
			},
		})
		if err != nil {
			return nil, fmt.Errorf("lab: starting guest %s (%s): %w", sp.key, sp.vm, err)
		}
		lg := &Guest{
			VM: sp.vm, Address: ip, Port: g.SSHPort(), User: "root",
			HostKey: g.HostKeyLine(), HostKeyFingerprint: g.HostKeyFingerprint(),
			Legacy: !opts.ModernSSH, Sim: g,
		}
		if sp.serves {
			lg.HTTPURL = "http://" + net.JoinHostPort(ip, strconv.Itoa(HTTPPort)) + "/"
		}
		l.Guests[sp.key] = lg
	}

	follow.Lock()
	for _, g := range l.Guests {
		on, known := site.MachineOn(g.VM)
		switch {
		case known && !on:
			// A restored lab may start with the VM off.
			g.Sim.SetPowered(false)
		case known && site.GuestBootRemaining(g.VM) > 0:
			// Restored while the VM was booting: the guest boots again
			// from power-on, so it answers at most one boot delay late,
			// never before its VM's Tools would.
			g.Sim.SetPowered(false)
			g.Sim.SetPowered(true)
		}
		follow.guests[g.VM] = g.Sim
	}
	follow.Unlock()
	ok = true
	return l, nil
}

// Close stops the guests and the vCenter and frees the block.
func (l *Lab) Close() {
	l.closeOnce.Do(func() {
		for _, g := range l.Guests {
			_ = g.Sim.Close()
		}
		if l.VCenter != nil {
			l.VCenter.Close()
		}
		if l.reservation != nil {
			_ = l.reservation.Close()
		}
		if l.ownDir {
			_ = os.RemoveAll(l.Dir)
		}
	})
}

// reserveBlock holds a listener on 127.X.0.1 for the lab's lifetime; a
// second lab, in this process or another, fails to bind it and moves on.
func (l *Lab) reserveBlock(block int) error {
	try := func(x int) bool {
		ln, err := net.Listen("tcp", net.JoinHostPort(fmt.Sprintf("127.%d.0.1", x), strconv.Itoa(blockReservationPort)))
		if err != nil {
			return false
		}
		l.reservation, l.Block = ln, x
		return true
	}
	if block != 0 {
		if block < 1 || block > 254 || !try(block) {
			return fmt.Errorf("lab: loopback block 127.%d.0.0/16 is invalid or in use by another lab (leave Options.Block 0 to pick a free one)", block)
		}
		return nil
	}
	// Start at a random block so concurrent processes rarely race.
	n, err := rand.Int(rand.Reader, big.NewInt(200))
	if err != nil {
		return fmt.Errorf("lab: choosing a loopback block: %w", err)
	}
	start := int(n.Int64())
	for i := 0; i < 200; i++ {
		if try(10 + (start+i)%200) {
			return nil
		}
	}
	return errors.New("lab: no free loopback block in 127.10.0.0-127.209.0.0 (too many labs running?)")
}

// writeClientKey provides the RSA key every guest accepts (RSA because RHEL
// 5's OpenSSH accepts only ssh-rsa and ssh-dss user keys), in Dir/id_rsa
// as OpenSSH reads it; see keys.go for when it is made.
func (l *Lab) writeClientKey() (ssh.Signer, error) {
	l.KeyFile = filepath.Join(l.Dir, "id_rsa")
	k, err := labKey(l.Dir, "id_rsa", true)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromSigner(k)
	if err != nil {
		return nil, fmt.Errorf("lab: the SSH key %s: %w", l.KeyFile, err)
	}
	l.PublicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	return signer, nil
}

// vcSuffix is the IP suffix of a lab VM name, e.g. 65 for "(65)apfg(02)".
func vcSuffix(vm string) int {
	for _, v := range vc.VMs {
		if v.Name == vm {
			return v.Suffix()
		}
	}
	return 0
}

// emptyDir reports whether dir has no entries (or cannot be read).
func emptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err != nil || len(entries) == 0
}
