package vcenter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// How a drill survives its own vCenter. The reference drill can fail the
// host that runs "(227)VCenter": vpxd then goes away until vSphere HA has
// restarted its VM (HA does not need vCenter to do that), comes back with
// every session gone, and answers 503 while it starts. The session rides
// through all of it: a call that could not reach vCenter is tried again
// until the step's own context ends, and a call vCenter answered with
// NotAuthenticated, in any of the forms vCenter uses, logs in again and is
// repeated. Each outage and each re-login is journaled in the step that met
// it.

// maxOutageDelay bounds the wait between two attempts to reach a vCenter
// that is down.
const maxOutageDelay = 2 * time.Second

// runtimeKey carries the step's Runtime in a call's context, so the
// transport, which sees only contexts, journals in the step it works for.
type runtimeKey struct{}

// withRuntime binds rt to ctx for the session's journaling.
func withRuntime(ctx context.Context, rt steps.Runtime) context.Context {
	return context.WithValue(ctx, runtimeKey{}, rt)
}

type pendingNote struct {
	level string
	text  journal.Text
}

// note journals text in the step bound to ctx, or keeps it for the next
// step that connects when no step is (the keepalive's own calls).
//
// A monitor's runtime journals only the monitor's state changes (the
// engine names it "monitor:NAME"), so what the session met in a monitor's
// probe is kept for the next step too: the re-login is the session's, not
// the probe's.
func (s *Session) note(ctx context.Context, level string, text journal.Text) {
	if rt, ok := ctx.Value(runtimeKey{}).(steps.Runtime); ok && rt != nil && !strings.HasPrefix(rt.StepID(), "monitor:") {
		steps.SayNote(rt, level, "%[1]s", "%[2]s", text.EN, text.ZhTW)
		return
	}
	s.notesMu.Lock()
	s.pending = append(s.pending, pendingNote{level, text})
	s.notesMu.Unlock()
}

// flushNotes journals the notes kept since the last step connected.
func (s *Session) flushNotes(rt steps.Runtime) {
	s.notesMu.Lock()
	pending := s.pending
	s.pending = nil
	s.notesMu.Unlock()
	for _, n := range pending {
		steps.SayNote(rt, n.level, "earlier, outside a step: %[1]s", "先前於步驟之外：%[2]s", n.text.EN, n.text.ZhTW)
	}
}

// errMissingNotAuthenticated stands for a property read vCenter answered
// normally but with every property missing because the session is gone.
var errMissingNotAuthenticated = soap.WrapVimFault(&types.NotAuthenticated{})

// isNotAuthenticated reports whether vCenter says the session is gone: a
// SOAP fault, or the fault of a failed task (task.Error wraps it).
func isNotAuthenticated(err error) bool {
	return err != nil && fault.Is(err, &types.NotAuthenticated{})
}

// missingNotAuthenticated reports whether a successful property read holds
// NotAuthenticated in an ObjectContent's MissingSet, which is how vCenter
// and vcsim answer RetrieveProperties for a session that no longer exists:
// not with a fault, but with each property missing. govmomi turns that into
// an error only after the transport returned, too late to log in again.
func missingNotAuthenticated(res soap.HasFault) bool {
	var contents []types.ObjectContent
	switch r := res.(type) {
	case *methods.RetrievePropertiesBody:
		if r.Res != nil {
			contents = r.Res.Returnval
		}
	case *methods.RetrievePropertiesExBody:
		if r.Res != nil && r.Res.Returnval != nil {
			contents = r.Res.Returnval.Objects
		}
	case *methods.ContinueRetrievePropertiesExBody:
		if r.Res != nil {
			contents = r.Res.Returnval.Objects
		}
	case *methods.WaitForUpdatesExBody:
		if r.Res != nil && r.Res.Returnval != nil {
			for _, fs := range r.Res.Returnval.FilterSet {
				for _, ou := range fs.ObjectSet {
					if missingSetNotAuthenticated(ou.MissingSet) {
						return true
					}
				}
			}
		}
	}
	for _, c := range contents {
		if missingSetNotAuthenticated(c.MissingSet) {
			return true
		}
	}
	return false
}

func missingSetNotAuthenticated(ms []types.MissingProperty) bool {
	for _, m := range ms {
		if _, ok := m.Fault.Fault.(*types.NotAuthenticated); ok {
			return true
		}
	}
	return false
}

// readOnlyMethods are the calls the session may repeat after a connection
// broke mid-call: they read, or create and destroy only the caller's own
// views and collectors, so a second copy changes nothing on the site.
var readOnlyMethods = map[string]bool{
	"RetrieveProperties": true, "RetrievePropertiesEx": true, "ContinueRetrievePropertiesEx": true,
	"CancelRetrievePropertiesEx": true, "WaitForUpdatesEx": true, "CreatePropertyCollector": true,
	"CreateFilter": true, "DestroyPropertyFilter": true, "DestroyPropertyCollector": true,
	"CreateContainerView": true, "DestroyView": true, "CurrentTime": true, "QueryEvents": true,
	"CreateCollectorForEvents": true, "ReadNextEvents": true, "ReadPreviousEvents": true,
	"DestroyCollector": true, "RetrieveServiceContent": true, "FindByInventoryPath": true,
}

// methodName is the vSphere method of a request body, e.g. "RetrieveProperties".
func methodName(req soap.HasFault) string {
	n := reflect.TypeOf(req).Elem().Name()
	return strings.TrimSuffix(n, "Body")
}

// unreachable reports whether err means the call never got an answer
// because vCenter is down or starting, and whether the call may be sent
// again: always when the request cannot have reached vpxd (connection
// refused, 503 from the reverse proxy in front of a starting vpxd), and
// for read-only calls also when the connection broke mid-call.
func unreachable(err error, method string) bool {
	if err == nil {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		// soap's status error type is unexported; its text is the
		// HTTP status line.
		if s := ue.Err.Error(); strings.HasPrefix(s, "503 ") || strings.HasPrefix(s, "502 ") {
			return true
		}
	}
	var uc *UnknownCertificateError
	var pm *PinMismatchError
	if errors.As(err, &uc) || errors.As(err, &pm) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	if !readOnlyMethods[method] {
		return false
	}
	// net.ErrClosed alone (no OpError around it): net/http wrote the
	// call on a kept-alive connection its reader had just closed because
	// vCenter hung up; POST is not retried by net/http itself.
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) || errors.As(err, &op)
}

// reloginTransport makes every call survive an outage of vCenter and the
// end of the session, as described at the top of this file.
type reloginTransport struct {
	next soap.RoundTripper
	s    *Session
}

func (r *reloginTransport) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	switch req.(type) {
	case *methods.LoginBody, *methods.LogoutBody:
		return r.next.RoundTrip(ctx, req, res)
	}
	method := methodName(req)
	for attempt := 1; ; attempt++ {
		gen := r.s.gen()
		// A fresh response each time: decoding into an earlier one would
		// keep its fault or its missing properties.
		fresh := reflect.New(reflect.TypeOf(res).Elem()).Interface().(soap.HasFault)
		err := r.throughOutage(ctx, method, req, fresh)
		reflect.ValueOf(res).Elem().Set(reflect.ValueOf(fresh).Elem())
		why := ""
		switch {
		case isNotAuthenticated(err):
			why = method + " answered NotAuthenticated"
		case err == nil && missingNotAuthenticated(fresh):
			why = method + " answered NotAuthenticated for the properties it read"
			err = errMissingNotAuthenticated
		default:
			return err
		}
		if attempt == 3 {
			return i18n.Errorf("vCenter %s keeps ending the session (%s, after %d logins): %w", "vCenter %s 一再結束工作階段（%s，已登入 %d 次）：%w", r.s.endpoint.URL.Host, why, attempt-1, err)
		}
		if lerr := r.s.relogin(ctx, gen, why); lerr != nil {
			return i18n.Errorf("vCenter ended the session and logging in again failed: %w", "vCenter 結束工作階段，且重新登入失敗：%w", lerr)
		}
	}
}

// throughOutage sends the call, and while vCenter cannot be reached sends it
// again with a growing pause, until it gets an answer or ctx ends.
func (r *reloginTransport) throughOutage(ctx context.Context, method string, req, res soap.HasFault) error {
	var since time.Time
	delay := 50 * time.Millisecond
	maxDelay := r.s.retryMax
	if maxDelay <= 0 {
		maxDelay = maxOutageDelay
	}
	host := r.s.endpoint.URL.Host
	for {
		err := r.next.RoundTrip(ctx, req, res)
		if !unreachable(err, method) || ctx.Done() == nil {
			// A context that never ends (one govmomi makes for itself)
			// would wait for ever: only a step's bounded call waits.
			if !since.IsZero() {
				r.s.note(ctx, "warning", steps.Textf("vCenter %s answers again after %s unreachable", "vCenter %s 於無法連線 %s 後恢復回應", host, time.Since(since).Round(time.Millisecond)))
			}
			return err
		}
		if since.IsZero() {
			since = time.Now()
			r.s.note(ctx, "warning", steps.Textf("vCenter %s cannot be reached (%s: %v); trying again until the step's time runs out", "無法連線至 vCenter %s（%s：%v）；於步驟時限內持續重試", host, method, err))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return i18n.Errorf("vCenter %s unreachable for %s (%s) until the step's time ran out: %w", "vCenter %s 無法連線達 %s（%s），直到步驟時限用盡：%w", host, time.Since(since).Round(time.Millisecond), method, err)
		case <-t.C:
		}
		// Every pause ends in a fresh connection (one the outage broke must
		// not be reused) and a fresh response.
		r.s.Client.DefaultTransport().CloseIdleConnections()
		reflect.ValueOf(res).Elem().Set(reflect.Zero(reflect.TypeOf(res).Elem()))
		delay = min(delay*2, maxDelay)
	}
}
