package vcenter

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/event"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*events)(nil)
	_ steps.Preflighter = (*events)(nil)
)

// EventRecord is one vCenter event, flattened for the journal.
type EventRecord struct {
	Time    time.Time `json:"time" expr:"time"`
	Type    string    `json:"type" expr:"type"`
	Message string    `json:"message" expr:"message"`
	Host    string    `json:"host,omitempty" expr:"host"`
	VM      string    `json:"vm,omitempty" expr:"vm"`
	User    string    `json:"user,omitempty" expr:"user"`
	Key     int32     `json:"key" expr:"key"`
}

// eventRecord flattens a vCenter event. EventEx and ExtendedEvent carry
// their real type in an id (e.g. com.vmware.vc.HA.HostFailedEvent).
func eventRecord(be types.BaseEvent) EventRecord {
	e := be.GetEvent()
	r := EventRecord{Time: e.CreatedTime, Type: reflect.TypeOf(be).Elem().Name(), Message: strings.TrimSpace(e.FullFormattedMessage), User: e.UserName, Key: e.Key}
	switch x := be.(type) {
	case *types.EventEx:
		r.Type = x.EventTypeId
	case *types.ExtendedEvent:
		r.Type = x.EventTypeId
	}
	if e.Host != nil {
		r.Host = e.Host.Name
	}
	if e.Vm != nil {
		r.VM = e.Vm.Name
	}
	switch x := be.(type) {
	case *types.DasHostFailedEvent:
		r.Host = x.FailedHost.Name
	case *types.VmFailoverFailed:
		if x.Reason != nil && r.Message == "" {
			r.Message = "failover failed: " + x.Reason.LocalizedMessage
		}
	}
	if r.Message == "" {
		r.Message = r.Type
		if r.VM != "" {
			r.Message += " vm=" + r.VM
		}
		if r.Host != "" {
			r.Message += " host=" + r.Host
		}
	}
	return r
}

// isHAEvent reports whether an event is about vSphere HA: host failures,
// restarts on alternate hosts, failed failovers.
func isHAEvent(r EventRecord) bool {
	t := r.Type
	return strings.Contains(t, "Das") || strings.Contains(t, "Failover") ||
		t == "VmRestartedOnAlternateHostEvent" || t == "HostConnectionLostEvent" || t == "HostNotRespondingEvent" ||
		strings.Contains(t, ".HA.") || strings.Contains(t, ".ha.") || strings.Contains(t, ".das.")
}

// queryEvents returns the events created at or after since, oldest first.
func (s *Session) queryEvents(ctx context.Context, since time.Time, max int32) ([]EventRecord, bool, error) {
	spec := types.EventFilterSpec{Time: &types.EventFilterSpecByTime{BeginTime: &since}, MaxCount: max}
	evs, err := event.NewManager(s.Client).QueryEvents(ctx, spec)
	if err != nil {
		return nil, false, i18n.Errorf("vCenter %s: reading events: %w", "vCenter %s：讀取事件：%w", s.endpoint.URL.Host, err)
	}
	out := make([]EventRecord, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventRecord(e))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Key < out[j].Key
	})
	return out, max > 0 && int32(len(evs)) >= max, nil
}

// eventsParams are the parameters of vcenter.events.
type eventsParams struct {
	// Since overrides the window's start; by default it is the run's start.
	Since journal.Duration `yaml:"since"`
	// Types keeps only events whose type contains one of these strings,
	// e.g. [Das, VmPoweredOn].
	Types []string `yaml:"types"`
	// HA keeps only vSphere HA events.
	HA bool `yaml:"ha"`
	// Max bounds how many events are read.
	Max int `yaml:"max"`
}

// eventsResult is what vcenter.events collected.
type eventsResult struct {
	Since     time.Time     `json:"since" expr:"since"`
	Events    []EventRecord `json:"events" expr:"events"`
	Count     int           `json:"count" expr:"count"`
	Truncated bool          `json:"truncated" expr:"truncated"`
}

// events is vcenter.events.
type events struct{}

func (events) Name() string    { return "vcenter.events" }
func (events) Summary() string { return "collect vCenter's events in the run's window as a timeline" }
func (events) Traits() steps.Traits {
	return steps.Traits{Idempotent: true}
}
func (events) NewParams() any { return &eventsParams{Max: 1000} }
func (events) NewResult() any { return &eventsResult{} }
func (events) Validate(params any) []steps.FieldError {
	p := params.(*eventsParams)
	if p.Max <= 0 || p.Max > 10000 {
		return []steps.FieldError{steps.Fieldf("max", "must be between 1 and 10000", "須介於 1 與 10000 之間")}
	}
	return nil
}
func (events) Describe(params any) steps.Description {
	p := params.(*eventsParams)
	what, zh := "collect vCenter events since the run began", "收集自演練開始以來之 vCenter 事件"
	if p.Since > 0 {
		what = fmt.Sprintf("collect vCenter events of the last %s", p.Since)
		zh = fmt.Sprintf("收集最近 %s 之 vCenter 事件", p.Since)
	}
	if p.HA {
		what += " (HA only)"
		zh += "（僅 HA 事件）"
	}
	return steps.Description{Action: what, ActionZhTW: zh, Target: "vCenter"}
}
func (events) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	_, err := connect(ctx, rt)
	return err
}
func (events) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*eventsParams)
	s, err := connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	since := rt.RunStarted()
	if p.Since > 0 {
		since = time.Now().Add(-p.Since.D())
	}
	all, truncated, err := s.queryEvents(ctx, since, int32(p.Max))
	if err != nil {
		return nil, err
	}
	res := &eventsResult{Since: since, Events: []EventRecord{}, Truncated: truncated}
	var moments []journal.Moment
	for _, e := range all {
		if p.HA && !isHAEvent(e) {
			continue
		}
		if len(p.Types) > 0 && !containsAny(e.Type, p.Types) {
			continue
		}
		res.Events = append(res.Events, e)
		moments = append(moments, journal.Moment{At: e.Time, Label: e.Message, Source: "vCenter " + e.Type})
	}
	res.Count = len(res.Events)
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTimeline, Title: fmt.Sprintf("vCenter events since %s", since.Format(time.RFC3339)),
		TitleZhTW: fmt.Sprintf("自 %s 起之 vCenter 事件", since.Format(time.RFC3339)), Timeline: moments})
	if truncated {
		steps.SayNote(rt, "warn", "vCenter returned the maximum of %d events; older ones in the window may be missing (raise max)", "vCenter 已回傳上限 %d 筆事件；時間範圍內較早之事件可能遺漏（請調高 max）", p.Max)
	}
	return res, nil
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
