package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
)

// DependentsSkipper is implemented by operators who can be asked, after
// they skipped a step, whether to skip the later steps that depend on it
// (that read steps.X in their parameters or conditions). An operator
// without it is never asked, and the dependents run as declared.
type DependentsSkipper interface {
	SkipDependents(ctx context.Context, skipped StepInfo, dependents []StepInfo) (bool, error)
}

// dependents lists the steps of the main and on_failure blocks, after st,
// that read st's outcome directly or through another dependent. finally
// is left out: its recovery steps are always offered, guarded by their
// own when: (steps.X.happened).
func (r *run) dependents(st *runbooks.Step) []*runbooks.Step {
	skipped := map[string]bool{st.ID: true}
	var out []*runbooks.Step
	after := false
	for _, list := range [][]*runbooks.Step{r.rb.Steps, r.rb.OnFailure} {
		for _, s := range list {
			if s.ID == st.ID {
				after = true
				continue
			}
			if !after {
				continue
			}
			if slices.ContainsFunc(s.StepRefs(), func(id string) bool { return skipped[id] }) {
				skipped[s.ID] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// offerSkipDependents asks the operator, once a step was skipped, whether
// its dependents should be skipped too, and remembers the answer; the
// choice is journaled as a decision on the skipped step.
func (r *run) offerSkipDependents(ctx context.Context, st *runbooks.Step, info StepInfo) {
	asker, ok := r.cfg.Operator.(DependentsSkipper)
	if !ok {
		return
	}
	deps := r.dependents(st)
	if len(deps) == 0 {
		return
	}
	infos := make([]StepInfo, len(deps))
	ids := make([]string, len(deps))
	for i, d := range deps {
		infos[i] = StepInfo{ID: d.ID, Name: d.Name, Kind: kindOf(d)}
		ids[i] = d.ID
	}
	yes, err := asker.SkipDependents(ctx, info, infos)
	if err != nil {
		return
	}
	action := "run-dependents"
	if yes {
		action = "skip-dependents"
		r.mu.Lock()
		if r.skipDeps == nil {
			r.skipDeps = map[string]journal.Text{}
		}
		for _, id := range ids {
			r.skipDeps[id] = journal.Text{EN: fmt.Sprintf("depends on step %s, which was skipped (the operator chose to skip its dependents)", st.ID),
				ZhTW: fmt.Sprintf("相依於已略過之步驟 %s（操作人員選擇一併略過相依步驟）", st.ID)}
		}
		r.mu.Unlock()
	}
	r.append(journal.Event{Type: journal.TypeDecision, Step: st.ID, Decision: &journal.Decision{Who: r.cfg.OperatorName, Action: action, Reason: strings.Join(ids, ", ")}})
}

// dependentSkipped says whether the operator chose to skip step id as a
// dependent of a skipped step, and why.
func (r *run) dependentSkipped(id string) (journal.Text, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reason, ok := r.skipDeps[id]
	return reason, ok
}

// remember keeps a finished step's result for the prompts (affects).
func (r *run) remember(res any) {
	if res == nil {
		return
	}
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
}

// affects says what a disruptive step will take down, for its prompt: its
// target and, when an earlier step recorded the placement of VMs (a
// result with a "placement" map of host to VMs, as vcenter.inventory's
// record: placement), the VMs running on that target.
func (r *run) affects(st *runbooks.Step) []string {
	if !st.Disruptive || st.Kind == nil {
		return nil
	}
	params, err := r.rb.ResolveParams(st, r.env, runbooks.Vars{})
	if err != nil {
		return nil
	}
	target := st.Kind.Describe(params).Target
	if target == "" {
		return nil
	}
	out := []string{target}
	r.mu.Lock()
	results := slices.Clone(r.results)
	r.mu.Unlock()
	for i := len(results) - 1; i >= 0; i-- {
		b, err := json.Marshal(results[i])
		if err != nil {
			continue
		}
		var rec struct {
			Placement map[string][]string `json:"placement"`
		}
		if json.Unmarshal(b, &rec) != nil || rec.Placement == nil {
			continue
		}
		if vms, ok := rec.Placement[target]; ok {
			for _, vm := range vms {
				out = append(out, "VM "+vm)
			}
			break
		}
	}
	for _, m := range r.rb.Monitors {
		out = append(out, "monitor "+m.Name)
	}
	return out
}
