package vcenter

import (
	"context"
	"net"
	"sort"
	"strings"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
)

// DiscoverOptions say which vCenter Discover reads and how it is trusted.
type DiscoverOptions struct {
	// Site gives the vcenter section (or, without one, govc's
	// environment), as for a run.
	Site *site.Site
	// Datacenter overrides the site's datacenter; empty means the site's,
	// or the only one.
	Datacenter string
	// Secret resolves the password reference; it may prompt.
	Secret func(ref site.SecretRef, label string) (string, error)
	// AcceptNew accepts a certificate that is neither pinned nor signed
	// by a trusted CA, as `run --accept-new` does.
	AcceptNew bool
}

// Discovery is a vCenter's inventory as Discover read it, in the order a
// site file lists it (names sorted).
type Discovery struct {
	// URL, User and Password are the endpoint that was read (the password
	// as its reference only).
	URL      string
	User     string
	Password site.SecretRef
	// Trust is the certificate the session relied on: its SHA-256 and how
	// it was trusted (pinned, ca, accepted-new).
	Trust journal.Trust
	// Product is vCenter's About.FullName.
	Product    string
	Datacenter string
	Clusters   []DiscoveredCluster
	Hosts      []DiscoveredHost
	Datastores []DiscoveredDatastore
	Networks   []DiscoveredNetwork
	VMs        []DiscoveredVM
}

// DiscoveredCluster is one cluster of the datacenter.
type DiscoveredCluster struct {
	Name     string
	HA, DRS  bool
	Hosts    []string
	MemoryMB int64
}

// DiscoveredHost is one ESXi host.
type DiscoveredHost struct {
	Name, Cluster string
	// Address is the management address: the first VMkernel NIC's IP, or
	// the name when that is an IP address.
	Address                     string
	ConnectionState, PowerState string
	InMaintenance               bool
	MemoryMB                    int64
}

// DiscoveredDatastore is one datastore.
type DiscoveredDatastore struct {
	Name, Type          string
	CapacityB, FreeB    int64
	Accessible, Shared  bool
	HostCount, VMsCount int
}

// DiscoveredNetwork is one port group: a standard network or a
// distributed port group.
type DiscoveredNetwork struct {
	Name, Kind string
	VMs        int
}

// DiscoveredVM is one virtual machine or template.
type DiscoveredVM struct {
	Name, Host, PowerState string
	GuestID, GuestFullName string
	Template, ToolsRunning bool
	// IP is the guest's primary address as VMware Tools reports it; IPs
	// every address of its NICs.
	IP       string
	IPs      []string
	Networks []string
}

// Discover logs in to vCenter and reads one datacenter's clusters, hosts,
// datastores, port groups and VMs (with the guest IPs VMware Tools
// reports), read-only. The certificate is trusted as for a run: pinned,
// signed by a trusted CA, or accepted with AcceptNew.
func Discover(ctx context.Context, o DiscoverOptions) (*Discovery, error) {
	ep, err := resolveEndpoint(o.Site)
	if err != nil {
		return nil, err
	}
	if o.Datacenter != "" {
		ep.Datacenter = o.Datacenter
	}
	var password string
	if !ep.Password.IsZero() {
		if o.Secret == nil {
			o.Secret = func(ref site.SecretRef, label string) (string, error) { return ref.Resolve(label, nil) }
		}
		if password, err = o.Secret(ep.Password, "vCenter password for "+ep.User); err != nil {
			return nil, err
		}
	}
	s := &Session{}
	if err := s.open(ctx, ep, password, o.AcceptNew); err != nil {
		return nil, err
	}
	defer s.Close()
	d := &Discovery{URL: ep.URL.String(), User: ep.User, Password: ep.Password}
	s.verifier.mu.Lock()
	if len(s.verifier.journals) > 0 {
		d.Trust = s.verifier.journals[0]
	}
	s.verifier.mu.Unlock()
	if about := s.Client.ServiceContent.About; about.FullName != "" {
		d.Product = about.FullName
	}
	if err := s.chooseDatacenter(ctx, d); err != nil {
		return nil, err
	}
	if err := s.discoverInventory(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// chooseDatacenter settles which datacenter is read: the one named, or
// the only one.
func (s *Session) chooseDatacenter(ctx context.Context, d *Discovery) error {
	if s.endpoint.Datacenter != "" {
		if _, err := s.root(ctx); err != nil {
			return err
		}
		d.Datacenter = s.endpoint.Datacenter
		return nil
	}
	dcs, err := find.NewFinder(s.Client, false).DatacenterList(ctx, "*")
	if err != nil {
		return i18n.Errorf("vCenter %s: listing datacenters: %w", "vCenter %s：列出資料中心：%w", s.endpoint.URL.Host, err)
	}
	switch len(dcs) {
	case 0:
		return i18n.Errorf("vCenter %s has no datacenter: there is no inventory to discover", "vCenter %s 沒有資料中心：無清單可供探索", s.endpoint.URL.Host)
	case 1:
		d.Datacenter = dcs[0].Name()
		s.endpoint.Datacenter = d.Datacenter
		return nil
	}
	var names []string
	for _, dc := range dcs {
		names = append(names, dc.Name())
	}
	sort.Strings(names)
	return i18n.Errorf("vCenter %s has %d datacenters (%s): choose one with --datacenter (one site file per datacenter)", "vCenter %s 有 %d 個資料中心（%s）：請以 --datacenter 擇一（每個資料中心一個場域檔）", s.endpoint.URL.Host, len(names), strings.Join(names, ", "))
}

func (s *Session) discoverInventory(ctx context.Context, d *Discovery) error {
	var clusters []mo.ClusterComputeResource
	if err := s.retrieveAll(ctx, "ClusterComputeResource", []string{"name", "host", "configurationEx", "summary"}, &clusters); err != nil {
		return err
	}
	var hosts []mo.HostSystem
	if err := s.retrieveAll(ctx, "HostSystem", []string{"name", "parent", "runtime", "summary.hardware.memorySize", "config.network.vnic"}, &hosts); err != nil {
		return err
	}
	var stores []mo.Datastore
	if err := s.retrieveAll(ctx, "Datastore", []string{"name", "summary", "host", "vm"}, &stores); err != nil {
		return err
	}
	var nets []mo.Network
	if err := s.retrieveAll(ctx, "Network", []string{"name", "vm"}, &nets); err != nil {
		return err
	}
	var vms []mo.VirtualMachine
	if err := s.retrieveAll(ctx, "VirtualMachine", []string{"name", "runtime.host", "runtime.powerState", "config.template", "config.guestId", "config.guestFullName",
		"guest.ipAddress", "guest.net", "guest.toolsRunningStatus", "network"}, &vms); err != nil {
		return err
	}
	hostName := map[types.ManagedObjectReference]string{}
	for _, h := range hosts {
		hostName[h.Self] = h.Name
	}
	netName := map[types.ManagedObjectReference]string{}
	for _, n := range nets {
		netName[n.Self] = n.Name
	}
	clusterOf := map[types.ManagedObjectReference]string{}
	for _, c := range clusters {
		dc := DiscoveredCluster{Name: c.Name}
		if cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx); ok {
			dc.HA = cfg.DasConfig.Enabled != nil && *cfg.DasConfig.Enabled
			dc.DRS = cfg.DrsConfig.Enabled != nil && *cfg.DrsConfig.Enabled
		}
		if sum := c.Summary.GetComputeResourceSummary(); sum != nil {
			dc.MemoryMB = sum.TotalMemory >> 20
		}
		for _, h := range c.Host {
			dc.Hosts = append(dc.Hosts, hostName[h])
			clusterOf[h] = c.Name
		}
		sort.Strings(dc.Hosts)
		d.Clusters = append(d.Clusters, dc)
	}
	for _, h := range hosts {
		dh := DiscoveredHost{Name: h.Name, Cluster: clusterOf[h.Self], ConnectionState: string(h.Runtime.ConnectionState),
			PowerState: string(h.Runtime.PowerState), InMaintenance: h.Runtime.InMaintenanceMode}
		if h.Summary.Hardware != nil {
			dh.MemoryMB = h.Summary.Hardware.MemorySize >> 20
		}
		if h.Config != nil && h.Config.Network != nil {
			for _, v := range h.Config.Network.Vnic {
				if v.Spec.Ip != nil && v.Spec.Ip.IpAddress != "" {
					dh.Address = v.Spec.Ip.IpAddress
					break
				}
			}
		}
		if dh.Address == "" && net.ParseIP(h.Name) != nil {
			dh.Address = h.Name
		}
		d.Hosts = append(d.Hosts, dh)
	}
	for _, ds := range stores {
		dd := DiscoveredDatastore{Name: ds.Name, Type: ds.Summary.Type, CapacityB: ds.Summary.Capacity, FreeB: ds.Summary.FreeSpace,
			Accessible: ds.Summary.Accessible, HostCount: len(ds.Host), VMsCount: len(ds.Vm)}
		dd.Shared = ds.Summary.MultipleHostAccess != nil && *ds.Summary.MultipleHostAccess || len(ds.Host) > 1
		d.Datastores = append(d.Datastores, dd)
	}
	for _, n := range nets {
		kind := "standard"
		if n.Self.Type == "DistributedVirtualPortgroup" {
			kind = "distributed"
		} else if n.Self.Type == "OpaqueNetwork" {
			kind = "opaque"
		}
		d.Networks = append(d.Networks, DiscoveredNetwork{Name: n.Name, Kind: kind, VMs: len(n.Vm)})
	}
	for _, v := range vms {
		dv := DiscoveredVM{Name: v.Name, PowerState: string(v.Runtime.PowerState)}
		if v.Runtime.Host != nil {
			dv.Host = hostName[*v.Runtime.Host]
		}
		if v.Config != nil {
			dv.Template, dv.GuestID, dv.GuestFullName = v.Config.Template, v.Config.GuestId, v.Config.GuestFullName
		}
		if v.Guest != nil {
			dv.IP = v.Guest.IpAddress
			dv.ToolsRunning = v.Guest.ToolsRunningStatus == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
			for _, n := range v.Guest.Net {
				dv.IPs = append(dv.IPs, n.IpAddress...)
			}
		}
		if dv.IP == "" {
			// Tools may report addresses per NIC only: take the first IPv4.
			for _, ip := range dv.IPs {
				if p := net.ParseIP(ip); p != nil && p.To4() != nil {
					dv.IP = ip
					break
				}
			}
		}
		for _, n := range v.Network {
			dv.Networks = append(dv.Networks, netName[n])
		}
		sort.Strings(dv.Networks)
		d.VMs = append(d.VMs, dv)
	}
	sort.Slice(d.Clusters, func(i, j int) bool { return d.Clusters[i].Name < d.Clusters[j].Name })
	sort.Slice(d.Hosts, func(i, j int) bool { return d.Hosts[i].Name < d.Hosts[j].Name })
	sort.Slice(d.Datastores, func(i, j int) bool { return d.Datastores[i].Name < d.Datastores[j].Name })
	sort.Slice(d.Networks, func(i, j int) bool { return d.Networks[i].Name < d.Networks[j].Name })
	sort.Slice(d.VMs, func(i, j int) bool { return d.VMs[i].Name < d.VMs[j].Name })
	return nil
}
