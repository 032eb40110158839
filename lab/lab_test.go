package lab

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func startLab(t *testing.T, opts Options) *Lab {
	t.Helper()
	l, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// dial logs in the way a site file says: the lab's key file, the pinned
// host key, RHEL 5's algorithms.
func dial(t *testing.T, l *Lab, g *Guest) (*ssh.Client, error) {
	t.Helper()
	pemBytes, err := os.ReadFile(l.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(g.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	conf := &ssh.ClientConfig{
		User: g.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(rsaSigner)},
		HostKeyCallback: ssh.FixedHostKey(pinned), HostKeyAlgorithms: []string{ssh.KeyAlgoRSA},
		// Ends a handshake with a guest that accepts but never answers;
		// generous, so a busy machine does not fail a live guest.
		Timeout: 30 * time.Second,
	}
	conf.KeyExchanges = []string{ssh.InsecureKeyExchangeDH14SHA1}
	conf.Ciphers = []string{ssh.InsecureCipherAES128CBC}
	conf.MACs = []string{ssh.HMACSHA1}
	return ssh.Dial("tcp", net.JoinHostPort(g.Address, strconv.Itoa(g.Port)), conf)
}

func TestConcurrentLabsGetDistinctBlocks(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	labs := make([]*Lab, 3)
	errs := make([]error, 3)
	for i := range labs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			labs[i], errs[i] = Start(context.Background(), Options{})
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for i, l := range labs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		defer l.Close()
		if seen[l.Block] {
			t.Errorf("two labs share block %d", l.Block)
		}
		seen[l.Block] = true
	}
	if _, err := Start(context.Background(), Options{Block: labs[0].Block}); err == nil {
		t.Errorf("a lab started in block %d, which another lab holds", labs[0].Block)
	}
}

func TestGuestFollowsItsVMThroughHAFailover(t *testing.T) {
	t.Parallel()
	l := startLab(t, Options{Speed: 100})
	ap := l.Guests["ap02"]
	c, err := dial(t, l, ap)
	if err != nil {
		t.Fatalf("ssh to %s: %v", ap.VM, err)
	}
	sess, _ := c.NewSession()
	out, err := sess.Output("hostname")
	sess.Close()
	c.Close()
	if err != nil || strings.TrimSpace(string(out)) != "apfg02.land.local" {
		t.Fatalf("hostname = %q, %v", out, err)
	}
	if body := get(t, ap.HTTPURL); !strings.Contains(body, "Land Registration WEB AP") {
		t.Fatalf("GET %s = %q", ap.HTTPURL, body)
	}

	// Hooks run in order, after the lab's own that powers the guest: this
	// one holds the delivery of later changes (HA's restart) until the test
	// has tried SSH on the dead guest, however slowly the test runs.
	offSeen, release := make(chan struct{}), make(chan struct{})
	l.VCenter.OnPowerChange(func(vm string, on bool) {
		if vm == ap.VM && !on {
			close(offSeen)
			<-release
		}
	})
	if err := l.VCenter.FailHost("esx-68"); err != nil {
		t.Fatal(err)
	}
	<-offSeen
	if ap.Sim.Powered() {
		t.Fatal("the guest still runs after its host failed")
	}
	if _, err := dial(t, l, ap); err == nil {
		t.Fatal("ssh answered while the guest's host was down")
	}
	close(release)
	if err := l.VCenter.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !ap.Sim.Powered() {
		t.Fatal("guest was not powered on again by the HA restart")
	}
	if ready := ap.Sim.Ready(); ready != nil {
		<-ready
	}
	c, err = dial(t, l, ap)
	if err != nil {
		t.Fatalf("ssh after HA restart: %v", err)
	}
	c.Close()
	if len(l.VCenter.GroundTruth()) != 4 {
		t.Errorf("ground truth %+v", l.VCenter.GroundTruth())
	}
	// The restore target on esx-69 never went down.
	if !l.Guests["ap03"].Sim.Powered() {
		t.Error("ap03 on esx-69 went down with esx-68")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
