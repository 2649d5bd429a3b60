package simnet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Faults make a provider fail the ways real ones do, so that tests can
// watch takedown's deliveries retry: a host that is down, a service that
// errs, one that is slow, a connection that breaks mid-answer. A fault
// applies to the platform's API host: its takedown API and its webhook
// receiver. SetSMTPDown takes the abuse mailboxes off the network.

// Fault modes.
const (
	FaultNone  = ""
	FaultDown  = "down"  // the connection is closed at once, without an answer
	FaultError = "error" // HTTP 500 with a JSON error
	FaultSlow  = "slow"  // the answer comes after Delay
	FaultReset = "reset" // the request is read, then the connection closed mid-answer
	// FaultLag: the request is taken and acted on, and its answer comes
	// after Delay: a sender that gives up or dies meanwhile does not
	// know the provider has its batch, and sends it again.
	FaultLag = "lag"
)

// FaultModes lists the modes a fault can have.
var FaultModes = []string{FaultNone, FaultDown, FaultError, FaultSlow, FaultReset, FaultLag}

// Fault is how a provider's API host fails.
type Fault struct {
	Mode string `json:"mode"`
	// Until is the real (wall clock) time the fault ends, not the
	// scenario's: tests of retries run in real time. Zero: until cleared.
	Until time.Time `json:"until,omitzero"`
	// Delay is how long a slow or lagging answer takes.
	Delay time.Duration `json:"delay,omitempty"`
}

// SetFault makes platform's API host fail as f says, from now on; a Fault
// with no mode clears it.
func (s *Server) SetFault(platform string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Mode == FaultNone {
		delete(s.faults, platform)
		return
	}
	s.faults[platform] = f
	s.log.Info("fault set", "platform", platform, "mode", f.Mode, "until", f.Until, "delay", f.Delay)
}

// Faults returns the faults in force, by platform.
func (s *Server) Faults() map[string]Fault {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Fault{}
	for p, f := range s.faults {
		if f.Until.IsZero() || now.Before(f.Until) {
			out[p] = f
		}
	}
	return out
}

// activeFault returns the fault in force for platform.
func (s *Server) activeFault(platform string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults[platform]
	if !f.Until.IsZero() && !time.Now().Before(f.Until) {
		delete(s.faults, platform)
		return Fault{}
	}
	return f
}

// injectFault acts out fault f on a request and reports whether that was
// the answer; false means serve the request as usual.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Mode {
	case FaultDown:
		abortConn(w, nil)
		return true
	case FaultError:
		apiError(w, http.StatusInternalServerError, "simulated failure: the provider's service is failing")
		return true
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			// The client gave up: there is no one to answer.
			return true
		}
	case FaultReset:
		io.Copy(io.Discard, io.LimitReader(r.Body, maxWebhookBytes))
		// A status line and the start of a header, then nothing: the
		// client reads an answer that breaks off (an unexpected EOF).
		abortConn(w, []byte("HTTP/1.1 200 OK\r\nContent-Type: applica"))
		return true
	}
	return false
}

// abortConn writes partial, if any, to the connection under w and closes
// it. HTTP/2 cannot hand its connection over; there the stream is reset
// instead, after a partial body.
func abortConn(w http.ResponseWriter, partial []byte) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		if partial != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(`{"id": "`))
			rc.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	if partial != nil {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write(partial)
	}
	conn.Close()
}

// SetSMTPDown takes the abuse mailboxes off the network (their listener
// is closed, so connections are refused) or puts them back on the same
// address. Sessions already open go on.
func (s *Server) SetSMTPDown(down bool) error {
	if err := s.smtpLn.setDown(down); err != nil {
		return err
	}
	s.log.Info("smtp", "down", down, "addr", s.info.SMTP)
	return nil
}

// switchListener is the SMTP server's listener across outages: it closes
// the socket while down and listens again on the same address when up,
// while the SMTP server goes on accepting from it as if nothing happened.
type switchListener struct {
	addr net.Addr
	mu   sync.Mutex
	ln   net.Listener  // nil while down
	wake chan struct{} // closed when the socket is back or the listener closed
	done bool
}

func newSwitchListener(ln net.Listener) *switchListener {
	return &switchListener{addr: ln.Addr(), ln: ln, wake: make(chan struct{})}
}

func (l *switchListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		ln, wake, done := l.ln, l.wake, l.done
		l.mu.Unlock()
		switch {
		case done:
			return nil, net.ErrClosed
		case ln == nil:
			<-wake
			continue
		}
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		l.mu.Lock()
		current := l.ln == ln && !l.done
		l.mu.Unlock()
		if current {
			return nil, err
		}
		// Closed to go down, or for good: look again.
	}
}

func (l *switchListener) setDown(down bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.done:
		return errors.New("simnet: the smtp server is closed")
	case down && l.ln != nil:
		err := l.ln.Close()
		l.ln = nil
		return err
	case !down && l.ln == nil:
		ln, err := net.Listen("tcp", l.addr.String())
		if err != nil {
			return fmt.Errorf("simnet: smtp back up on %s: %w", l.addr, err)
		}
		l.ln = ln
		close(l.wake)
		l.wake = make(chan struct{})
	}
	return nil
}

func (l *switchListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil
	}
	l.done = true
	close(l.wake)
	if l.ln != nil {
		return l.ln.Close()
	}
	return nil
}

func (l *switchListener) Addr() net.Addr { return l.addr }

// lagWriter holds an answer back: the handler writes into it, and the
// answer goes out after the lag, if the client still waits.
type lagWriter struct {
	header http.Header
	status int
	body   []byte
}

func (l *lagWriter) Header() http.Header { return l.header }
func (l *lagWriter) WriteHeader(status int) {
	if l.status == 0 {
		l.status = status
	}
}
func (l *lagWriter) Write(b []byte) (int, error) {
	l.WriteHeader(http.StatusOK)
	l.body = append(l.body, b...)
	return len(b), nil
}

// lag serves r with serve, then answers after delay.
func lag(w http.ResponseWriter, r *http.Request, delay time.Duration, serve func(http.ResponseWriter, *http.Request)) {
	lw := &lagWriter{header: http.Header{}}
	serve(lw, r)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return // the client is gone: it never learns the answer
	}
	for k, v := range lw.header {
		w.Header()[k] = v
	}
	if lw.status == 0 {
		lw.status = http.StatusOK
	}
	w.WriteHeader(lw.status)
	w.Write(lw.body)
}

// SetSMTPLag makes the abuse mailboxes take each message and confirm it
// only after d (zero: at once), as FaultLag does for the API hosts.
func (s *Server) SetSMTPLag(d time.Duration) {
	s.smtpLag.Store(int64(d))
}
