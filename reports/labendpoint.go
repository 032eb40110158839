package reports

import "github.com/drbook/drbook/journal"

// A run pointed at a standalone drbook lab through a site file starts as a
// real run (its run.start says so: drbook could not know yet). When it
// connects, the vCenter step journals the endpoint's evidence, and the lab
// names itself there by its own marker. These are that evidence's title and
// fact keys, as steps/vcenter writes them.
const (
	endpointTitle   = "vCenter endpoint"
	endpointLab     = "lab"
	endpointLabName = "drbook lab"
	endpointSpeed   = "lab speed"
)

// labEndpoint reports whether e is the endpoint evidence of a drbook lab,
// and the lab speed it states (0 when it states none).
func labEndpoint(e *journal.Evidence) (bool, float64) {
	if e.Kind != journal.EvidenceFacts || e.Title != endpointTitle {
		return false, 0
	}
	lab, speed := false, 0.0
	for _, f := range e.Facts {
		switch f.Key {
		case endpointLab:
			lab = f.Value == endpointLabName
		case endpointSpeed:
			speed = parseLabSpeed(f.Value)
		}
	}
	return lab, speed
}
