package aritest

import (
	"encoding/binary"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
)

var recordFormats = map[string]bool{"wav": true, "gsm": true, "ulaw": true, "alaw": true, "sln": true, "slin": true, "g722": true, "wav16": true}

// newRecording checks a record request with trace 14's answers.
func (s *Server) newRecording(q *req) *recording {
	name, format := q.get("name"), q.get("format")
	if name == "" {
		// Guess: the message. Not checked: a record request without format
		// crashed 22.10.1 (trace 14), so one without name is not sent to
		// the real one either.
		writeMsg(q.w, http.StatusBadRequest, "Missing parameter name")
		return nil
	}
	if format == "" {
		// Asterisk 22.10.1 crashed on this (trace 14, "nofmt"); the fake
		// refuses it. Guess, cannot be checked (the real one crashes): the
		// message.
		writeMsg(q.w, http.StatusBadRequest, "Missing parameter format")
		return nil
	}
	if slices.Contains(strings.Split(name, "/"), "..") {
		writeMsg(q.w, http.StatusInternalServerError, "Error parsing request")
		return nil
	}
	if !recordFormats[format] {
		writeMsg(q.w, http.StatusUnprocessableEntity, "specified format is unknown on this system")
		return nil
	}
	exists := "Recording '" + name + "' already exists and can not be overwritten"
	stored := s.stored[strings.TrimLeft(name, "/")]
	switch ifExists := q.get("ifExists"); {
	case s.recs[name] != nil:
		writeMsg(q.w, http.StatusConflict, exists)
		return nil
	case ifExists == "overwrite":
		delete(s.stored, strings.TrimLeft(name, "/"))
	case ifExists == "append":
	case stored != nil: // ifExists=fail, the default
		writeMsg(q.w, http.StatusConflict, exists)
		return nil
	}
	r := &recording{name: name, format: format, state: "queued", started: time.Now()}
	// maxDurationSeconds ends the recording "done": seen on the real
	// Asterisk 22.10.1, TestDifferential/RecordBridge.
	if n, err := strconv.Atoi(q.get("maxDurationSeconds")); err == nil && n > 0 {
		gen := s.gen
		r.maxDur = time.AfterFunc(s.scale(time.Duration(n)*time.Second), func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.closed && s.gen == gen && s.recs[r.name] == r {
				s.finishRecording(r, "done")
			}
		})
	}
	return r
}

func (s *Server) startRecording(q *req, r *recording) {
	s.recs[r.name] = r
	writeJSON(q.w, http.StatusCreated, r.model())
	r.state = "recording"
	s.emitRecording(r, &ari.RecordingStarted{EventBase: base(ari.TypeRecordingStarted), Recording: r.model()})
}

func (s *Server) recordBridge(q *req) {
	b := s.findBridge(q)
	if b == nil {
		return
	}
	r := s.newRecording(q)
	if r == nil {
		return
	}
	r.br, r.target = b, "bridge:"+b.id
	b.rec = r
	s.startRecording(q, r)
}

func (s *Server) recordChannel(q *req) {
	c := s.stasisChannel(q)
	if c == nil {
		return
	}
	r := s.newRecording(q)
	if r == nil {
		return
	}
	r.ch, r.target = c, "channel:"+c.id
	s.startRecording(q, r)
}

func (s *Server) findRecording(q *req) *recording {
	r := s.recs[q.path[0]]
	if r == nil {
		writeMsg(q.w, http.StatusNotFound, "Recording not found")
	}
	return r
}

func (s *Server) getRecording(q *req) {
	if r := s.findRecording(q); r != nil {
		writeJSON(q.w, http.StatusOK, r.model())
	}
}

// stopRecording is POST .../stop (state done) and DELETE (state canceled).
func (s *Server) stopRecording(q *req) {
	r := s.findRecording(q)
	if r == nil {
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
	state := "done"
	if q.r.Method == http.MethodDelete {
		state = "canceled"
	}
	s.finishRecording(r, state)
}

// recordingOp is pause/unpause and mute/unmute: 204 with no event (trace
// 14b). Guess, not checked: the recorded length ignores them (a duration
// in whole seconds of real audio; TestDifferential compares events and
// states, not durations).
func (s *Server) recordingOp(q *req) {
	if r := s.findRecording(q); r != nil {
		q.w.WriteHeader(http.StatusNoContent)
	}
}

type storedModel struct {
	Format string `json:"format"`
	Name   string `json:"name"`
}

func (s *Server) listStored(q *req) {
	out := make([]storedModel, 0, len(s.stored))
	for _, st := range s.stored {
		out = append(out, storedModel{Format: st.format, Name: st.name})
	}
	slices.SortFunc(out, func(a, b storedModel) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(q.w, http.StatusOK, out)
}

func (s *Server) findStored(q *req) *storedRecording {
	st := s.stored[q.path[0]]
	if st == nil {
		writeMsg(q.w, http.StatusNotFound, "Recording not found")
	}
	return st
}

func (s *Server) getStored(q *req) {
	if st := s.findStored(q); st != nil {
		writeJSON(q.w, http.StatusOK, storedModel{Format: st.format, Name: st.name})
	}
}

func (s *Server) deleteStored(q *req) {
	if st := s.findStored(q); st != nil {
		delete(s.stored, st.name)
		q.w.WriteHeader(http.StatusNoContent)
	}
}

// storedFile is GET /recordings/stored/{name}/file: a WAV file (8 kHz,
// 16-bit mono silence as long as the recording, about trace 14's 49004
// bytes for 3 s) for format wav; guess, not checked (file contents are
// real audio on a real node): raw silence for other formats.
func (s *Server) storedFile(q *req) {
	st := s.findStored(q)
	if st == nil {
		return
	}
	n := int(st.length.Seconds()*16000) &^ 1
	if st.format != "wav" {
		q.w.Header().Set("Content-Type", "application/octet-stream")
		q.w.WriteHeader(http.StatusOK)
		_, _ = q.w.Write(make([]byte, n/2))
		return
	}
	h := make([]byte, 44, 44+n)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+n))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], 16000)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(n))
	q.w.Header().Set("Content-Type", "audio/wav")
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(append(h, make([]byte, n)...))
}
