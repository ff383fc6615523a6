package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/postern/postern/internal/admission"
	"github.com/postern/postern/internal/observe"
)

// memoryCheckEvery is how often the memory watch samples the runtime.
const memoryCheckEvery = time.Second

// watchMemory starts the memory watch against the runtime's limit
// (Memory-Limit or GOMEMLIMIT; none, no watch) until ctx ends: at 90% of
// it new connections are refused (admission.ReasonMemory) until the
// memory is back below 80%, each change logged and written to the event
// log (J5).
func (in *instance) watchMemory(ctx context.Context) *admission.MemoryWatch {
	w := admission.NewMemoryWatch(0, nil)
	if w == nil {
		return nil
	}
	w.OnChange = func(over bool, used, limit uint64) {
		state, log := "high", in.logger.Warn
		msg := "memory near the limit: refusing new connections"
		if !over {
			state, log, msg = "normal", in.logger.Info, "memory back under the limit: accepting connections"
		}
		log(msg, "used", used, "limit", limit)
		in.events.Event(observe.EventMemory, slog.String("state", state),
			slog.Uint64("used", used), slog.Uint64("limit", limit))
	}
	go w.Run(ctx, memoryCheckEvery)
	return w
}
