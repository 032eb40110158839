package runbooks

import (
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// checkSiteValues reports values of a decoded site that fit their Go type
// but cannot work: a guest port outside 1 to 65535.
func checkSiteValues(path string, root *yaml.Node, s *site.Site, errs *ErrorList) {
	for _, name := range sortedKeys(s.Guests) {
		g := s.Guests[name]
		if g.Port == 0 && steps.FindField(root, "guests."+name+".port") == steps.FindField(root, "guests."+name) {
			continue // not given: 22
		}
		if msg := steps.PortProblem(strconv.Itoa(g.Port)); msg != "" {
			errs.add(posOf(path, steps.FindField(root, "guests."+name+".port")), say("guest %s: %s", "客體 %s：%s", name, pair(msg, steps.PortProblemZhTW(strconv.Itoa(g.Port)))),
				say("the SSH port is usually 22", "SSH 連接埠通常為 22"))
		}
	}
}
