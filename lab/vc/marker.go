package vc

import (
	"context"
	"fmt"
	"strconv"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

// The lab says it is a lab over the vSphere API, so a run pointed at a
// standalone `drbook lab` through a site file is recorded as a lab run, as
// a run with --lab is. No real vCenter names itself ProductName, and
// drbook reads nothing else to decide: the address proves nothing.
const (
	// ProductName is the lab's ServiceContent.About.Name and
	// LicenseProductName.
	ProductName = "drbook lab"
	// SpeedSetting is the key of the lab's vCenter setting (OptionManager
	// Setting) whose value is Options.Speed, e.g. "30".
	SpeedSetting = "drbook.lab.speed"
)

// markAsLab renames the simulated vCenter before the model is created. The
// version and build stay vcsim's, so a report still says what API it was.
func markAsLab(model *simulator.Model, speed float64) {
	a := &model.ServiceContent.About
	a.Name = ProductName
	a.LicenseProductName = ProductName
	a.FullName = fmt.Sprintf("%s (simulated vCenter, time ×%s) on vcsim %s build-%s", ProductName, FormatSpeed(speed), a.Version, a.Build)
}

// publishSpeed records the lab's time speed as the SpeedSetting setting.
func publishSpeed(ctx context.Context, c *vim25.Client, speed float64) error {
	om := object.NewOptionManager(c, *c.ServiceContent.Setting)
	return om.Update(ctx, []types.BaseOptionValue{&types.OptionValue{Key: SpeedSetting, Value: FormatSpeed(speed)}})
}

// FormatSpeed writes a speed the way the lab publishes it ("30", "2.5").
func FormatSpeed(speed float64) string { return strconv.FormatFloat(speed, 'g', -1, 64) }
