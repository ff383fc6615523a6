package observe

import (
	"context"
	"log/slog"
	"slices"
)

// dedupHandler makes every record carry each key once. slog's own handlers
// write whatever they are given, so a connection logger made with
// With("proto", …, "remote", …) that logs a record with its own "remote"
// (the authenticator's report does) writes the key twice, which breaks
// every tool that reads key=value or JSON logs (fail2ban, jq, Loki).
//
// Attributes added with With and those of the record are merged, a later
// value replacing an earlier one of the same key in place: the record wins
// over its logger, an inner With over an outer one. Outside any group, an
// attribute named like a key the handler writes itself (time, level, msg)
// is written as "attr_<key>".
type dedupHandler struct {
	inner   slog.Handler // with the groups and their attributes applied
	attrs   []slog.Attr  // With attributes since the last group
	grouped bool         // a group is open: reserved keys cannot clash
}

func newDedupHandler(inner slog.Handler) *dedupHandler { return &dedupHandler{inner: inner} }

func (h *dedupHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *dedupHandler) WithAttrs(as []slog.Attr) slog.Handler {
	attrs := slices.Clone(h.attrs)
	for _, a := range as {
		attrs = h.merge(attrs, a)
	}
	return &dedupHandler{inner: h.inner, attrs: attrs, grouped: h.grouped}
}

func (h *dedupHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &dedupHandler{inner: h.inner.WithAttrs(h.attrs).WithGroup(name), grouped: true}
}

func (h *dedupHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := make([]slog.Attr, 0, len(h.attrs)+r.NumAttrs())
	attrs = append(attrs, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = h.merge(attrs, a)
		return true
	})
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(attrs...)
	return h.inner.Handle(ctx, out)
}

// merge adds a to attrs, replacing an attribute of the same key.
func (h *dedupHandler) merge(attrs []slog.Attr, a slog.Attr) []slog.Attr {
	if a.Equal(slog.Attr{}) {
		return attrs
	}
	if !h.grouped {
		switch a.Key {
		case slog.TimeKey, slog.LevelKey, slog.MessageKey:
			a.Key = "attr_" + a.Key
		}
	}
	if a.Key == "" { // an inlined group: its members are top-level keys
		for _, ga := range a.Value.Resolve().Group() {
			attrs = h.merge(attrs, ga)
		}
		return attrs
	}
	for i := range attrs {
		if attrs[i].Key == a.Key {
			attrs[i] = a
			return attrs
		}
	}
	return append(attrs, a)
}
