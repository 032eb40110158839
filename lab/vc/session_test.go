package vc

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func TestExpireSessionsAnswersNotAuthenticatedThenReloginWorks(t *testing.T) {
	t.Parallel()
	s := startLab(t, testOptions())
	ctx := context.Background()
	c, sm := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-68")

	if us, err := sm.UserSession(ctx); err != nil || us == nil {
		t.Fatalf("session before expiry = %v, %v", us, err)
	}
	s.ExpireSessions()

	var m mo.HostSystem
	err := property.DefaultCollector(c).RetrieveOne(ctx, h.Reference(), []string{"name"}, &m)
	if !fault.Is(err, &types.NotAuthenticated{}) {
		t.Fatalf("read after expiry: err = %v, want NotAuthenticated", err)
	}
	if _, err := h.EnterMaintenanceMode(ctx, 0, false, nil); !fault.Is(err, &types.NotAuthenticated{}) {
		t.Fatalf("task after expiry: err = %v, want NotAuthenticated", err)
	}
	// govmomi's keepalive asks for the current session and expects nil.
	if us, err := sm.UserSession(ctx); err != nil || us != nil {
		t.Fatalf("UserSession after expiry = %v, %v; want nil, nil", us, err)
	}

	if err := sm.Login(ctx, url.UserPassword(s.User, s.Password)); err != nil {
		t.Fatalf("re-login: %v", err)
	}
	if err := property.DefaultCollector(c).RetrieveOne(ctx, h.Reference(), []string{"name"}, &m); err != nil || m.Name != "esx-68" {
		t.Fatalf("read after re-login: %q, %v", m.Name, err)
	}
	if err := sm.Login(ctx, url.UserPassword(s.User, "wrong")); !fault.Is(err, &types.InvalidLogin{}) {
		t.Fatalf("login with a wrong password: %v, want InvalidLogin", err)
	}
}

// A drbook-style watcher: one WaitForUpdatesEx loop over the failed host and
// one VM, never polling, sees the host go down and the VM come back on
// another host with its IP.
func TestWaitForUpdatesWatcherSeesFailover(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	s := startLab(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _ := dial(t, ctx, s)
	names := hostNames(t, ctx, c)
	h68 := host(t, ctx, c, "esx-68")
	vm := *vmRef(t, ctx, c, "(65)apfg(02)")

	pc := property.DefaultCollector(c)
	var seen []string
	hostDown := false
	restartedOn := ""
	done := make(chan error, 1)
	go func() {
		done <- property.WaitForUpdatesEx(ctx, pc, &property.WaitFilter{
			CreateFilter: types.CreateFilter{Spec: types.PropertyFilterSpec{
				ObjectSet: []types.ObjectSpec{{Obj: h68.Reference()}, {Obj: vm}},
				PropSet: []types.PropertySpec{
					{Type: "HostSystem", PathSet: []string{"runtime.connectionState", "runtime.powerState"}},
					{Type: "VirtualMachine", PathSet: []string{"runtime.host", "runtime.powerState", "guest.ipAddress"}},
				},
			}},
		}, func(updates []types.ObjectUpdate) bool {
			for _, u := range updates {
				for _, ch := range u.ChangeSet {
					seen = append(seen, u.Obj.Type+" "+ch.Name)
					switch ch.Name {
					case "runtime.connectionState":
						hostDown = hostDown || ch.Val == types.HostSystemConnectionStateNotResponding
					case "runtime.host":
						if r, ok := ch.Val.(types.ManagedObjectReference); ok && names[r] != "esx-68" {
							restartedOn = names[r]
						}
					case "guest.ipAddress":
						if hostDown && restartedOn != "" && ch.Val == opts.GuestIP(65) {
							return true
						}
					}
				}
			}
			return false
		})
	}()

	if err := s.FailHost("esx-68"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("watcher: %v (saw %v)", err, seen)
	}
	if restartedOn != "esx-70" {
		t.Errorf("watcher saw (65)apfg(02) restart on %q, want esx-70", restartedOn)
	}
}
