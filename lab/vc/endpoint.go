package vc

import (
	"errors"
	"net"
	"net/http"
	"sync"
)

// VCenterVM is the VM that runs vCenter itself on the reference site
// (DOMAIN.md: "vCenter itself runs as a VM on .70"). The lab's SOAP
// endpoint lives and dies with it.
const VCenterVM = "(227)VCenter"

// endpointState is what the SOAP endpoint does, following VCenterVM.
type endpointState int

const (
	// endpointUp serves the API.
	endpointUp endpointState = iota
	// endpointOff refuses connections: the VM is not running (its host
	// died), so nothing listens on vCenter's address.
	endpointOff
	// endpointStarting answers every request 503 Service Unavailable, as
	// vCenter's reverse proxy does while vpxd starts: the VM runs again
	// but its guest has not finished booting.
	endpointStarting
)

func (e endpointState) String() string {
	switch e {
	case endpointOff:
		return "off"
	case endpointStarting:
		return "starting"
	}
	return "up"
}

// endpoint is vCenter's HTTPS address. It serves vcsim's handlers itself
// (vcsim's own listener, on an address nobody is told, stays unused), so
// the lab can take the address down and bring it back: a net.Listener for
// http.Server that closes the socket while the VM is off (connections are
// refused) and opens it again on the same address when the VM runs.
type endpoint struct {
	addr string

	mu    sync.Mutex
	cond  *sync.Cond
	ln    net.Listener // nil while off
	state endpointState
	conns map[net.Conn]struct{}
	// closed is set by Close: Accept returns net.ErrClosed for good.
	closed bool
}

func newEndpoint(ln net.Listener) *endpoint {
	e := &endpoint{addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	e.cond = sync.NewCond(&e.mu)
	return e
}

// Accept waits while the endpoint is off, so http.Server keeps serving
// across outages.
func (e *endpoint) Accept() (net.Conn, error) {
	for {
		e.mu.Lock()
		for e.ln == nil && !e.closed {
			e.cond.Wait()
		}
		if e.closed {
			e.mu.Unlock()
			return nil, net.ErrClosed
		}
		ln := e.ln
		e.mu.Unlock()
		c, err := ln.Accept()
		e.mu.Lock()
		switch {
		case e.closed:
			e.mu.Unlock()
			if c != nil {
				c.Close()
			}
			return nil, net.ErrClosed
		case err == nil && e.ln == ln:
			tc := &trackedConn{Conn: c, e: e}
			e.conns[tc] = struct{}{}
			e.mu.Unlock()
			return tc, nil
		case err == nil:
			// Accepted just as the VM went off.
			c.Close()
		case e.ln == ln:
			e.mu.Unlock()
			return nil, err
		}
		// The listener was closed under Accept by an outage: wait for it
		// to come back.
		e.mu.Unlock()
	}
}

// Close ends the endpoint for good (the lab closes).
func (e *endpoint) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.ln != nil {
		e.ln.Close()
		e.ln = nil
	}
	e.cond.Broadcast()
	return nil
}

func (e *endpoint) Addr() net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", e.addr)
	return a
}

// set moves the endpoint to state: off closes the socket and every
// connection; starting and up listen again (503 or the API). It never
// blocks on vcsim, so it may run under the lab's locks.
func (e *endpoint) set(state endpointState) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.state = state
	if state == endpointOff {
		if e.ln != nil {
			e.ln.Close()
			e.ln = nil
		}
		for c := range e.conns {
			c.(*trackedConn).Conn.Close()
		}
		e.conns = map[net.Conn]struct{}{}
		return nil
	}
	if e.ln == nil {
		ln, err := net.Listen("tcp", e.addr)
		if err != nil {
			return err
		}
		e.ln = ln
		e.cond.Broadcast()
	}
	return nil
}

func (e *endpoint) current() endpointState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

// handler answers 503 while vpxd starts and passes everything else on.
func (e *endpoint) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.current() != endpointUp {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "503 Service Unavailable (vCenter is starting)", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// trackedConn removes itself from the endpoint's connections on Close.
type trackedConn struct {
	net.Conn
	e *endpoint
}

func (c *trackedConn) Close() error {
	c.e.mu.Lock()
	delete(c.e.conns, c)
	c.e.mu.Unlock()
	err := c.Conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
