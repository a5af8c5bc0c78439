package samlauth

import (
	"time"

	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// nowClock is a clockwork.Clock whose Now (and Since/Until) come from an
// injected function; timers are real. crewjam reads time only through Now.
type nowClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c nowClock) Now() time.Time                  { return c.now() }
func (c nowClock) Since(t time.Time) time.Duration { return c.now().Sub(t) }
func (c nowClock) Until(t time.Time) time.Duration { return t.Sub(c.now()) }

// DSigClock adapts an injected clock for crewjam/saml (samlsp.Options.Clock,
// samlidp.Options.Clock). A nil now gives the real clock.
func DSigClock(now func() time.Time) *dsig.Clock {
	if now == nil {
		return dsig.NewRealClock()
	}
	return dsig.NewFakeClock(nowClock{Clock: clockwork.NewRealClock(), now: now})
}
