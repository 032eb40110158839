// Package vcenter holds the step kinds that act on a vCenter: record the
// inventory, check a cluster, shut down, reboot, power on and evacuate
// hosts, power, snapshot, clone, migrate and destroy VMs, wait on VM
// conditions, collect events,
// and verify that vSphere HA restarted a failed host's VMs.
//
// Every kind shares the run's one vCenter session (connection.go), which
// trusts only a CA-signed, pinned or --accept-new certificate, keeps itself
// alive and logs in again when vCenter ends it. Every wait blocks on the
// PropertyCollector (WaitForUpdatesEx), never on a sleep-and-poll loop, and
// Describe and Preflight send no state-changing call.
package vcenter

import (
	"github.com/drbook/drbook/steps"
)

// Kinds returns every vCenter step kind, for the registry.
func Kinds() []steps.Kind {
	return []steps.Kind{
		&inventory{},
		&clusterCheck{},
		hostShutdown,
		hostReboot,
		hostPowerOn,
		hostEnterMaintenance,
		hostExitMaintenance,
		hostDisconnect,
		hostReconnect,
		&hostWaitConnected{},
		&vmPower{},
		&vmWait{},
		&vmSnapshot{},
		&vmClone{},
		&vmDestroy{},
		&vmMigrate{},
		&events{},
		&haVerifyRestart{},
	}
}

// required reports a missing mandatory string parameter.
func required(field, value string) []steps.FieldError {
	if value == "" {
		return []steps.FieldError{steps.Fieldf(field, "is required", "為必填")}
	}
	return nil
}

// oneOf reports a value outside a fixed set.
func oneOf(field, value string, allowed ...string) []steps.FieldError {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return []steps.FieldError{steps.Fieldf(field, "%q is not one of %v", "%q 不是下列之一：%v", value, allowed)}
}
