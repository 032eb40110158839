package vc

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The hosts' BMCs (the x3650 M3's IMM, an iLO or iDRAC elsewhere): what an
// operator uses to power on a host that vCenter cannot, because it was shut
// down or failed rather than put into standby. Each host's BMC answers on
// its own loopback address, 127.X.0.(100+NN) for host esx-NN, with the two
// calls of the DMTF Redfish API a drill needs:
//
//	GET  /redfish/v1/Systems/1                            {"PowerState": "On"|"Off", …}
//	POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset  {"ResetType": "On"|"ForceOff"}
//
// so a runbook powers the host on with `exec.local` and curl (or, on a
// site whose BMC speaks only IPMI, ipmitool), as on the real site.

// redfishSystem is the path of the host's one ComputerSystem.
const redfishSystem = "/redfish/v1/Systems/1"

// bmc is one host's BMC.
type bmc struct {
	host string
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// BMCIP is the loopback address of host esx-<suffix>'s BMC.
func (o Options) BMCIP(suffix int) string { return o.GuestIP(100 + suffix) }

// startBMCs serves every host's BMC; callers hold no lock.
func (s *Site) startBMCs() error {
	for _, name := range HostNames {
		ln, err := net.Listen("tcp", net.JoinHostPort(s.opts.BMCIP(hostSuffix(name)), "0"))
		if err != nil {
			return fmt.Errorf("lab vcenter: the BMC of %s cannot listen: %w", name, err)
		}
		b := &bmc{host: name, ln: ln, done: make(chan struct{})}
		b.srv = &http.Server{Handler: s.bmcHandler(name), ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			defer close(b.done)
			_ = b.srv.Serve(ln)
		}()
		s.bmcs = append(s.bmcs, b)
	}
	return nil
}

func (s *Site) closeBMCs() {
	for _, b := range s.bmcs {
		b.srv.Close()
		<-b.done
	}
	s.bmcs = nil
}

// BMCURL is the Redfish ComputerSystem URL of the named host's BMC, "" for
// an unknown host.
func (s *Site) BMCURL(host string) string {
	for _, b := range s.bmcs {
		if b.host == host {
			return "http://" + b.ln.Addr().String() + redfishSystem
		}
	}
	return ""
}

// redfishError writes an error in Redfish's shape.
func redfishError(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "Base.1.0." + id, "message": msg}})
}

func (s *Site) bmcHandler(host string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(redfishSystem, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			redfishError(w, http.StatusMethodNotAllowed, "ActionNotSupported", "use GET on "+redfishSystem)
			return
		}
		on, _ := s.HostPoweredOn(host)
		state := "Off"
		if on {
			state = "On"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"@odata.id": redfishSystem, "Id": "1", "Name": "Computer System", "HostName": host,
			"Manufacturer": "IBM", "Model": "System x3650 M3", "PowerState": state,
		})
	})
	mux.HandleFunc(redfishSystem+"/Actions/ComputerSystem.Reset", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			redfishError(w, http.StatusMethodNotAllowed, "ActionNotSupported", "use POST with {\"ResetType\": \"On\"}")
			return
		}
		var req struct{ ResetType string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
			redfishError(w, http.StatusBadRequest, "MalformedJSON", "the body must be JSON like {\"ResetType\": \"On\"}: "+err.Error())
			return
		}
		var err error
		switch strings.TrimSpace(req.ResetType) {
		case "On":
			err = s.PowerOnHost(host)
		case "ForceOff":
			if on, _ := s.HostPoweredOn(host); on {
				err = s.FailHost(host)
			}
		default:
			redfishError(w, http.StatusBadRequest, "ActionParameterNotSupported", "ResetType "+strconv.Quote(req.ResetType)+" is not supported by this BMC (On, ForceOff)")
			return
		}
		if err != nil {
			redfishError(w, http.StatusConflict, "GeneralError", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
