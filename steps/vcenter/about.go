package vcenter

import (
	"context"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/object"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// AboutTitle is the title of the evidence that records what vCenter the
// run talked to; the report reads its lab facts (see reports.LabEndpoint).
const AboutTitle = "vCenter endpoint"

// The lab's own marker, as lab/vc publishes it (its tests check that the two
// agree). Only this marker makes a run "lab": never the address.
const (
	labProductName  = "drbook lab"
	labSpeedSetting = "drbook.lab.speed"
)

// Fact keys of the AboutTitle evidence a report reads.
const (
	FactLab      = "lab"
	FactLabSpeed = "lab speed"
)

// aboutEvidence describes the vCenter the session is connected to, from its
// ServiceContent.About, which vim25.NewClient fetched without a login. For
// the drbook lab it adds the lab's marker and its time speed, read from the
// lab's own setting; a real vCenter is asked nothing more.
func (s *Session) aboutEvidence(ctx context.Context) journal.Evidence {
	a := s.Client.ServiceContent.About
	facts := []journal.Fact{
		{Key: "endpoint", KeyZhTW: "端點", Value: s.endpoint.URL.Host},
		{Key: "product", KeyZhTW: "產品", Value: a.FullName},
		{Key: "version", KeyZhTW: "版本", Value: a.Version},
		{Key: "build", KeyZhTW: "組建編號", Value: a.Build},
		{Key: "api type", KeyZhTW: "API 類型", Value: a.ApiType},
		{Key: "api version", KeyZhTW: "API 版本", Value: a.ApiVersion},
		{Key: "instance uuid", KeyZhTW: "執行個體 UUID", Value: a.InstanceUuid},
	}
	if a.Name == labProductName && a.LicenseProductName == labProductName {
		facts = append(facts, journal.Fact{Key: FactLab, KeyZhTW: "模擬環境", Value: labProductName})
		if sp := s.labSpeed(ctx); sp != "" {
			facts = append(facts, journal.Fact{Key: FactLabSpeed, KeyZhTW: "模擬環境倍速", Value: sp})
		}
	}
	return journal.Evidence{Kind: journal.EvidenceFacts, Title: AboutTitle, TitleZhTW: "vCenter 端點", Facts: facts}
}

// labSpeed reads the lab's published speed; "" when it has none that is a
// positive number.
func (s *Session) labSpeed(ctx context.Context) string {
	if s.Client.ServiceContent.Setting == nil {
		return ""
	}
	opts, err := object.NewOptionManager(s.Client, *s.Client.ServiceContent.Setting).Query(ctx, labSpeedSetting)
	if err != nil {
		return ""
	}
	for _, o := range opts {
		v := o.GetOptionValue()
		if v.Key != labSpeedSetting {
			continue
		}
		str, _ := v.Value.(string)
		if f, err := strconv.ParseFloat(strings.TrimSpace(str), 64); err == nil && f > 0 {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	}
	return ""
}

// journalAbout journals the endpoint evidence once per session, by the
// first step that connects: a monitor's runtime keeps evidence out of the
// journal (as with notes, see Session.note), so a monitor leaves it to the
// next step.
func (s *Session) journalAbout(ctx context.Context, rt steps.Runtime) {
	if s.aboutDone || strings.HasPrefix(rt.StepID(), "monitor:") {
		return
	}
	s.aboutDone = true
	rt.Evidence(s.aboutEvidence(ctx))
}
