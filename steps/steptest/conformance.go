package steptest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/steps"
)

// Decode decodes YAML parameters for kind the way the loader does, failing
// the test on any problem.
func Decode(t testing.TB, kind steps.Kind, src string) any {
	t.Helper()
	p, errs := DecodeErrors(kind, src)
	if len(errs) > 0 {
		t.Fatalf("%s: decode %q: %v", kind.Name(), src, errs)
	}
	return p
}

// DecodeErrors decodes YAML parameters for kind and returns the problems.
func DecodeErrors(kind steps.Kind, src string) (any, []steps.DecodeError) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, []steps.DecodeError{{Msg: err.Error()}}
	}
	var node *yaml.Node
	if len(doc.Content) > 0 {
		node = doc.Content[0]
	}
	return steps.DecodeParams(kind, node)
}

// Case drives the conformance suite for one kind.
type Case struct {
	// Params is a valid parameter mapping in YAML.
	Params string
	// Runtime is where Execute runs; NewRuntime(t, nil) when nil.
	Runtime *Runtime
	// Slow, when set, is a parameter mapping whose execution takes well over
	// CancelBound, used to prove that cancellation is honoured. Kinds that
	// always finish at once may leave it empty.
	Slow string
	// CancelBound is how soon after cancellation Execute must return; 2s
	// when zero.
	CancelBound time.Duration
	// SkipExecute leaves out the success run (for kinds whose success needs
	// a person or a site the test does not have).
	SkipExecute bool
	// Unchanged, when set, reports whether the target is still as it was;
	// it is called after Describe and Preflight to prove they change nothing.
	Unchanged func() bool
}

// Conformance runs the checks every kind must pass.
func Conformance(t *testing.T, kind steps.Kind, c Case) {
	t.Helper()
	if c.CancelBound == 0 {
		c.CancelBound = 2 * time.Second
	}
	t.Run("name", func(t *testing.T) {
		if kind.Name() == "" || strings.ContainsAny(kind.Name(), " \t") || kind.Summary() == "" {
			t.Fatalf("kind needs a name without spaces and a summary, got %q / %q", kind.Name(), kind.Summary())
		}
	})
	t.Run("types", func(t *testing.T) {
		for what, v := range map[string]any{"params": kind.NewParams(), "result": kind.NewResult()} {
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
				t.Fatalf("New%s must return a pointer to a struct, got %T", strings.Title(what), v)
			}
		}
		if reflect.ValueOf(kind.NewParams()).Pointer() == reflect.ValueOf(kind.NewParams()).Pointer() {
			t.Fatal("NewParams must return a new value each call")
		}
		rt := reflect.TypeOf(kind.NewResult()).Elem()
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if f.IsExported() && (f.Tag.Get("json") == "" || f.Tag.Get("expr") == "") {
				t.Errorf("result field %s needs json and expr tags", f.Name)
			}
		}
	})
	t.Run("unknown-field-rejected", func(t *testing.T) {
		src := strings.TrimSpace(c.Params)
		if src == "" || src == "{}" {
			src = "{zz_no_such_field: 1}"
		} else if strings.HasPrefix(src, "{") {
			src = "{zz_no_such_field: 1, " + src[1:]
		} else {
			src = "zz_no_such_field: 1\n" + src
		}
		_, errs := DecodeErrors(kind, src)
		if len(errs) == 0 {
			t.Fatalf("decoding %q succeeded; an unknown field must be rejected", src)
		}
		if !strings.Contains(errs[0].Msg, "zz_no_such_field") || errs[0].Line == 0 {
			t.Fatalf("error must name the field and its line: %+v", errs[0])
		}
	})
	params := Decode(t, kind, c.Params)
	rt := c.Runtime
	if rt == nil {
		rt = NewRuntime(t, nil)
	}
	t.Run("describe-changes-nothing", func(t *testing.T) {
		d := kind.Describe(params)
		if d.Action == "" {
			t.Fatal("Describe must say what the step would do")
		}
		if p, ok := kind.(steps.Preflighter); ok {
			prt := NewRuntime(t, rt.SiteVal)
			prt.Opts = rt.Opts
			prt.Opts.Plan = true
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = p.Preflight(ctx, prt, params)
		}
		if c.Unchanged != nil && !c.Unchanged() {
			t.Fatal("Describe or Preflight changed the target")
		}
	})
	if !c.SkipExecute {
		t.Run("execute-result", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			res, err := kind.Execute(ctx, rt, params)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if time.Since(start) <= 0 {
				t.Fatal("no time passed")
			}
			if res == nil || reflect.TypeOf(res) != reflect.TypeOf(kind.NewResult()) {
				t.Fatalf("Execute returned %T, want %T", res, kind.NewResult())
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("result does not encode as JSON: %v", err)
			}
		})
	}
	t.Run("cancellation", func(t *testing.T) {
		src := c.Slow
		if src == "" {
			src = c.Params
		}
		p := Decode(t, kind, src)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := kind.Execute(ctx, rt, p)
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if c.Slow != "" && err == nil {
				t.Fatal("the slow case finished without error although it was cancelled")
			}
			if c.Slow != "" && !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "cancel") {
				t.Fatalf("a cancelled step must say so, got: %v", err)
			}
		case <-time.After(c.CancelBound):
			t.Fatalf("Execute did not return within %s of cancellation", c.CancelBound)
		}
	})
}
