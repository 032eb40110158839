// Package all builds the registry of every step kind drbook ships, in one
// place, so that the set of kinds is visible at a glance and a test can
// build a registry of its own instead.
package all

import (
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/bmc"
	"github.com/drbook/drbook/steps/check"
	"github.com/drbook/drbook/steps/control"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/vcenter"
)

// Registry returns a registry of every built-in kind.
func Registry() *steps.Registry {
	var kinds []steps.Kind
	kinds = append(kinds, control.Kinds()...)
	kinds = append(kinds, check.Kinds()...)
	kinds = append(kinds, ssh.Kinds()...)
	kinds = append(kinds, vcenter.Kinds()...)
	kinds = append(kinds, bmc.Kinds()...)
	return steps.NewRegistry(kinds...)
}
