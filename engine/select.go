package engine

import (
	"strings"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/runbooks"
)

// selectSteps turns resume's --from and --only into two answers about a
// step instance id: must it run again although it finished (force), and
// may it run at all (only; nil means every step may). Ids name top-level
// steps of a block; a group or fan-out brings its branches and instances.
func selectSteps(rb *runbooks.Runbook, opts ResumeOptions) (force func(id string) bool, only map[string]bool, err error) {
	var top []*runbooks.Step
	for _, list := range [][]*runbooks.Step{rb.Steps, rb.OnFailure, rb.Finally} {
		top = append(top, list...)
	}
	index := map[string]int{}
	for i, st := range top {
		index[st.ID] = i
	}
	unknown := func(id string) error {
		ids := make([]string, len(top))
		for i, st := range top {
			ids[i] = st.ID
		}
		return i18n.Errorf("%w %q in %s; name a step at the top of steps, on_failure or finally: %s",
			"%w %q（%s）；請指定 steps、on_failure 或 finally 最上層之步驟：%s",
			ErrUnknownStep, id, rb.Name, strings.Join(ids, ", "))
	}
	selected := map[string]bool{}
	if opts.From != "" {
		i, ok := index[opts.From]
		if !ok {
			return nil, nil, unknown(opts.From)
		}
		for _, st := range top[i:] {
			addStep(selected, st)
		}
	}
	if len(opts.Only) > 0 {
		only = map[string]bool{}
		for _, id := range opts.Only {
			i, ok := index[id]
			if !ok {
				return nil, nil, unknown(id)
			}
			addStep(only, top[i])
			addStep(selected, top[i])
		}
	}
	force = func(id string) bool {
		if selected[id] {
			return true
		}
		// A fan-out's instances are "id[0]", "id[1]", ….
		if i := strings.IndexByte(id, '['); i > 0 {
			return selected[id[:i]]
		}
		return false
	}
	return force, only, nil
}

// addStep marks a step and, for a group, every branch inside it.
func addStep(set map[string]bool, st *runbooks.Step) {
	set[st.ID] = true
	for _, child := range st.Parallel {
		addStep(set, child)
	}
}
