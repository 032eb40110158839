package steps

import (
	"github.com/drbook/drbook/i18n"
)

// A preflight runs before anything has happened, so it must not fail a
// step for lacking what an earlier step of the same run will create: the
// archive a transfer step copies to the standby, the directory a mkdir
// step makes. Kinds that create such things declare them (Producer); a
// preflight asks its runtime (ProducedBy) before calling a missing input
// an error, and says which step will produce it.

// ErrNoAnswer marks a probe's error that means the probe could not get an
// answer by its own means (a login, an API it goes through), not that
// what it probes failed: a monitor records such a probe as "unknown",
// never as an outage. Wrap it: fmt.Errorf("…: %w", steps.ErrNoAnswer).
var ErrNoAnswer = i18n.New("the probe got no answer", "探測未獲回應")

// Product is something a step creates that a later step's preflight
// may look for: a file or directory on a guest.
type Product struct {
	// Guest is the guest's name in the site.
	Guest string
	// Path is the absolute path on the guest.
	Path string
	// Tree means anything below Path may be created too (an archive
	// extracted there), not only Path itself.
	Tree bool
}

// Producer is implemented by kinds that create products. Produces must
// not contact anything; it sees the parameters a preflight sees, so a
// value known only at run time is its ${{ }} text.
type Producer interface {
	Produces(params any) []Product
}

// Planner is implemented by the Runtime a preflight receives when it runs
// for a whole runbook (plan, preflight, and run before its first step).
type Planner interface {
	// ProducedBy names the earlier step that will have created path on
	// guest by the time this step runs, or whose result the value is
	// (a parameter computed from steps.X is its ${{ }} text here).
	ProducedBy(guest, path string) (step string, ok bool)
}

// ProducedBy asks rt whether an earlier step of the run produces path on
// guest. It is false outside a whole-runbook preflight.
func ProducedBy(rt Runtime, guest, path string) (string, bool) {
	if p, ok := rt.(Planner); ok {
		return p.ProducedBy(guest, path)
	}
	return "", false
}
