package vcenter

import (
	"context"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
)

// change is one property update as the PropertyCollector delivered it,
// stamped with when drbook received it.
type change struct {
	Obj  types.ManagedObjectReference
	Name string
	Val  any
	At   time.Time
}

// watch follows props of objs on the PropertyCollector (WaitForUpdatesEx)
// and calls onChange with every change, starting with the current values,
// until onChange returns true or ctx ends. It never polls: each call
// blocks in vCenter until something changes.
//
// A wait is re-created when vCenter ended the session (its collector and
// filter die with the session), so the caller sees the current values
// again; onChange must therefore treat changes as state, not as edges.
func (s *Session) watch(ctx context.Context, objs []types.ManagedObjectReference, kind string, props []string, onChange func([]change) bool) error {
	if len(objs) == 0 {
		return nil
	}
	filter := new(property.WaitFilter)
	for _, o := range objs {
		filter.Add(o, kind, props)
	}
	// Keep one PropSet: the ObjectSet entries all share it.
	filter.Spec.PropSet = filter.Spec.PropSet[:1]
	slice := int32(s.waitSlice / time.Second)
	if slice < 1 {
		slice = 1
	}
	filter.Options = &types.WaitOptions{MaxWaitSeconds: &slice}
	done := false
	restarts := 0
	for !done {
		gen := s.gen()
		err := property.WaitForUpdates(ctx, property.DefaultCollector(s.Client), filter, func(updates []types.ObjectUpdate) bool {
			at := time.Now()
			var cs []change
			for _, u := range updates {
				for _, c := range u.ChangeSet {
					cs = append(cs, change{Obj: u.Obj, Name: c.Name, Val: c.Val, At: at})
				}
			}
			if len(cs) > 0 && onChange(cs) {
				done = true
			}
			return done
		})
		if done {
			// The condition was met: what came after (destroying the
			// collector, or the window ending while that round trip ran)
			// cannot undo it.
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			restarts = 0
			continue
		}
		sessionEnded := s.gen() != gen || isNotAuthenticated(err) || fault.Is(err, &types.ManagedObjectNotFound{})
		if sessionEnded && restarts < 3 {
			restarts++
			if s.gen() == gen {
				if lerr := s.relogin(ctx, gen, "waiting for "+kind+" updates: "+err.Error()); lerr != nil {
					return i18n.Errorf("vCenter ended the session during a wait and logging in again failed: %w", "等待中 vCenter 結束工作階段，且重新登入失敗：%w", lerr)
				}
			}
			continue
		}
		return i18n.Errorf("vCenter %s: waiting for %s updates: %w", "vCenter %s：等待 %s 更新：%w", s.endpoint.URL.Host, kind, err)
	}
	return nil
}

// within returns a context that ends after d, and whether the error of a
// wait under it means the time ran out (as opposed to a cancellation).
func within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc, func(error) bool) {
	wctx, cancel := context.WithTimeoutCause(ctx, d, errWithin)
	return wctx, cancel, func(err error) bool {
		return err != nil && ctx.Err() == nil && context.Cause(wctx) == errWithin
	}
}

var errWithin = i18n.Errorf("time limit reached", "已達時限")
