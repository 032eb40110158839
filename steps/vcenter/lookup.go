package vcenter

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// root is the container inventory lookups search: the site's datacenter
// when it names one, else the whole inventory.
func (s *Session) root(ctx context.Context) (types.ManagedObjectReference, error) {
	if s.endpoint.Datacenter == "" {
		return s.Client.ServiceContent.RootFolder, nil
	}
	// NewFinder without an argument first looks up the default
	// datacenter on a context of its own, which no step's time limit
	// bounds; false skips that.
	dc, err := find.NewFinder(s.Client, false).Datacenter(ctx, s.endpoint.Datacenter)
	if err != nil {
		return types.ManagedObjectReference{}, i18n.Errorf("vCenter %s: datacenter %q (%s): %w", "vCenter %s：資料中心 %q（%s）：%w", s.endpoint.URL.Host, s.endpoint.Datacenter, s.endpoint.From, err)
	}
	return dc.Reference(), nil
}

// retrieveAll reads props of every object of kind below the lookup root.
// The read takes a container view, which dies with the session: when the
// session was logged in again during the read (vCenter restarted), the
// whole read is done again with a new view.
func (s *Session) retrieveAll(ctx context.Context, kind string, props []string, dst any) error {
	for attempt := 1; ; attempt++ {
		gen := s.gen()
		err := s.retrieveAllOnce(ctx, kind, props, dst)
		if err == nil || s.gen() == gen || attempt == 3 || ctx.Err() != nil {
			return err
		}
	}
}

func (s *Session) retrieveAllOnce(ctx context.Context, kind string, props []string, dst any) error {
	root, err := s.root(ctx)
	if err != nil {
		return err
	}
	v, err := view.NewManager(s.Client).CreateContainerView(ctx, root, []string{kind}, true)
	if err != nil {
		return i18n.Errorf("vCenter %s: %w", "vCenter %s：%w", s.endpoint.URL.Host, err)
	}
	defer v.Destroy(ctx)
	if err := v.Retrieve(ctx, []string{kind}, props, dst); err != nil {
		return i18n.Errorf("vCenter %s: reading %s objects: %w", "vCenter %s：讀取 %s 物件：%w", s.endpoint.URL.Host, kind, err)
	}
	return nil
}

// hostName maps a runbook's host name to its inventory name through the
// site's hosts section.
func hostName(rt steps.Runtime, name string) string {
	if h, ok := rt.Site().Hosts[name]; ok && h.Name != "" {
		return h.Name
	}
	return name
}

// vmName maps a runbook's VM or guest name to the VM's inventory name
// through the site's guests section.
func vmName(rt steps.Runtime, name string) string {
	if g, ok := rt.Site().Guests[name]; ok && g.VM != "" {
		return g.VM
	}
	return name
}

// inventoryZhTW names the kinds of inventory objects notFound is given.
var inventoryZhTW = map[string]string{"host": "主機", "VM": "VM", "datastore": "資料存放區", "cluster": "叢集", "port group": "連接埠群組"}

func notFound(what, name, host string, known []string) error {
	msg := i18n.Errorf("%s %q not found in vCenter %s", "vCenter %[3]s 中找不到%[1]s %[2]q", what, name, host)
	if zh, ok := inventoryZhTW[what]; ok {
		msg = i18n.Errorf("%s %q not found in vCenter %s", "vCenter %[3]s 中找不到%[1]s %[2]q", i18n.New(what, zh), name, host)
	}
	if best := steps.Closest(name, known); best != "" {
		return i18n.Errorf("%v; did you mean %q?", "%v；您是否指 %q？", msg, best)
	}
	sort.Strings(known)
	if len(known) > 12 {
		known = append(known[:12], "…")
	}
	return i18n.Errorf("%v (it has: %s); check the name in the runbook or the site file", "%v（現有：%s）；請檢查演練手冊或場域檔中之名稱", msg, strings.Join(known, ", "))
}

// findHost returns the host with the given inventory name.
func (s *Session) findHost(ctx context.Context, name string) (*object.HostSystem, error) {
	ref, err := s.findNamed(ctx, "HostSystem", "host", name)
	if err != nil {
		return nil, err
	}
	return object.NewHostSystem(s.Client, ref), nil
}

// findVM returns the VM with the given inventory name.
func (s *Session) findVM(ctx context.Context, name string) (*object.VirtualMachine, error) {
	ref, err := s.findNamed(ctx, "VirtualMachine", "VM", name)
	if err != nil {
		return nil, err
	}
	return object.NewVirtualMachine(s.Client, ref), nil
}

// findNamed returns the object of a managed type (HostSystem,
// VirtualMachine) with the given inventory name; what names the type in
// the error, which lists the names vCenter has.
func (s *Session) findNamed(ctx context.Context, kind, what, name string) (types.ManagedObjectReference, error) {
	var all []mo.ManagedEntity
	if err := s.retrieveAll(ctx, kind, []string{"name"}, &all); err != nil {
		return types.ManagedObjectReference{}, err
	}
	var known []string
	for _, e := range all {
		if e.Name == name {
			return e.Self, nil
		}
		known = append(known, e.Name)
	}
	return types.ManagedObjectReference{}, notFound(what, name, s.endpoint.URL.Host, known)
}

// names maps references to inventory names.
func (s *Session) names(ctx context.Context, refs []types.ManagedObjectReference) (map[types.ManagedObjectReference]string, error) {
	out := map[types.ManagedObjectReference]string{}
	if len(refs) == 0 {
		return out, nil
	}
	var objs []mo.ManagedEntity
	if err := property.DefaultCollector(s.Client).Retrieve(ctx, refs, []string{"name"}, &objs); err != nil {
		return nil, err
	}
	for _, o := range objs {
		out[o.Self] = o.Name
	}
	return out, nil
}

// hostProps are the host properties the kinds read.
var hostProps = []string{"name", "parent", "runtime.connectionState", "runtime.powerState", "runtime.inMaintenanceMode", "vm"}

// readHost reads a host's state.
func (s *Session) readHost(ctx context.Context, h *object.HostSystem) (mo.HostSystem, error) {
	var m mo.HostSystem
	err := h.Properties(ctx, h.Reference(), hostProps, &m)
	if err != nil {
		return m, i18n.Errorf("vCenter %s: reading host %s: %w", "vCenter %s：讀取主機 %s：%w", s.endpoint.URL.Host, h.Reference().Value, err)
	}
	return m, nil
}

// poweredOnVMs lists, sorted, the names of the powered-on VMs on a host.
// It selects VMs by their runtime.host rather than reading the host's vm
// list: runtime.host is what HA acts on, and it is the property every
// migration updates.
func (s *Session) poweredOnVMs(ctx context.Context, h mo.HostSystem) ([]string, error) {
	var vms []mo.VirtualMachine
	if err := s.retrieveAll(ctx, "VirtualMachine", []string{"name", "runtime.host", "runtime.powerState"}, &vms); err != nil {
		return nil, i18n.Errorf("vCenter %s: reading the VMs of host %s: %w", "vCenter %s：讀取主機 %s 之 VM：%w", s.endpoint.URL.Host, h.Name, err)
	}
	out := []string{}
	for _, v := range vms {
		if v.Runtime.Host != nil && *v.Runtime.Host == h.Self && v.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			out = append(out, v.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// runTask starts a vCenter task with call and waits for it on the
// PropertyCollector, turning a fault into an error that says what failed.
//
// The session may end under a task. A wait that fails because it did (its
// collector died with the session) waits again on the same task, which
// vCenter keeps. A task that itself failed with NotAuthenticated did
// nothing: the session logs in again and starts it once more.
func (s *Session) runTask(ctx context.Context, doing journal.Text, call func(context.Context) (*object.Task, error)) (*types.TaskInfo, error) {
	what := i18n.New(doing.EN, doing.ZhTW)
	for started := 1; ; started++ {
		gen := s.gen()
		startGen := gen
		task, err := call(ctx)
		if err != nil {
			return nil, i18n.Errorf("%v: vCenter refused: %w", "%v：vCenter 拒絕：%w", what, err)
		}
		info, err := task.WaitForResult(ctx)
		for waits := 1; err != nil && waits < 4 && ctx.Err() == nil && !isTaskFailure(err) &&
			(s.gen() != gen || isNotAuthenticated(err) || fault.Is(err, &types.ManagedObjectNotFound{})); waits++ {
			if s.gen() == gen {
				if lerr := s.relogin(ctx, gen, "waiting for task "+task.Reference().Value+": "+err.Error()); lerr != nil {
					return info, i18n.Errorf("%v: vCenter ended the session while waiting for task %s and logging in again failed: %w", "%v：等待工作 %s 時 vCenter 結束工作階段，且重新登入失敗：%w", what, task.Reference().Value, lerr)
				}
			}
			gen = s.gen()
			info, err = task.WaitForResult(ctx)
		}
		if err == nil {
			return info, nil
		}
		if ctx.Err() != nil {
			return info, i18n.Errorf("%v: cancelled while waiting for task %s: %w", "%v：等待工作 %s 時已取消：%w", what, task.Reference().Value, ctx.Err())
		}
		if isTaskFailure(err) && isNotAuthenticated(err) && started < 2 {
			// The task ran on a session that ended under it: it did
			// nothing. Unless a wait above logged in again already, find
			// out whether the session is gone; a live one means the
			// fault is vCenter's answer, not a lost session.
			if s.gen() == startGen {
				us, uerr := session.NewManager(s.Client).UserSession(ctx)
				if uerr == nil && us != nil {
					return info, i18n.Errorf("%v: task %s failed: %w (the session is still logged in)", "%v：工作 %s 失敗：%w（工作階段仍為登入狀態）", what, task.Reference().Value, err)
				}
				if lerr := s.relogin(ctx, startGen, "task "+task.Reference().Value+" failed with NotAuthenticated"); lerr != nil {
					return info, i18n.Errorf("%v: task %s failed: %w; logging in again failed: %v", "%v：工作 %s 失敗：%w；重新登入失敗：%v", what, task.Reference().Value, err, lerr)
				}
			} else {
				s.note(ctx, "warning", steps.Textf("task %s failed with NotAuthenticated: vCenter ended the session under it; starting it again", "工作 %s 因 NotAuthenticated 失敗：vCenter 於執行中結束了工作階段；重新啟動該工作", task.Reference().Value))
			}
			continue
		}
		return info, i18n.Errorf("%v: task %s failed: %w", "%v：工作 %s 失敗：%w", what, task.Reference().Value, err)
	}
}

// isTaskFailure reports whether err is the task's own error (the task ran
// and failed), not a failure to wait for it.
func isTaskFailure(err error) bool {
	var te task.Error
	return errors.As(err, &te)
}

// stamp is an instant for an evidence table: RFC 3339 in UTC to the
// millisecond, so that a report shows it in the runbook's time zone like
// every other time (a bare clock time in the machine's zone could not be
// converted, and sat in UTC under a timeline in Asia/Taipei).
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
