// Package showspec reads a show as `callin serve --show` gives it
// ("morning,title=Morning,capacity=200,callback=PJSIP/{number}@trunk"),
// keeps it in the shows table (its settings column, as JSON) and turns a
// stored row into what the Stasis application and the console run.
package showspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
)

// DefaultMOHClass is the music-on-hold class of a show that names none:
// dialplan/musiconhold.conf's [callin].
const DefaultMOHClass = "callin"

// Spec is a show given on the command line.
type Spec struct {
	queue.Config
	// Talkback is what the show's talkback may use (talkback-phones=,
	// talkback-media=).
	Talkback Talkback
	// Host is the host's phone (host=), which the console calls on air.
	Host string
	// Hold is the most callers per holding bridge (hold=; 0: callin's
	// default of 50; negative: one bridge, given as hold=0).
	Hold int
	// Callback is how the show calls callers back (callback=, callback-cid=).
	Callback broadcast.CallbackLine
	// NextClears is what Take next does first with the unlocked callers on
	// air (next=hold or next=drop; "" leaves them).
	NextClears string
	// Nodes are the nodes whose callers the show takes besides its own
	// (nodes=A|B; node= or its alias studio= names the studio, where the
	// on-air bridge lives): broadcast.ShowConfig.Nodes.
	Nodes []string
}

// Talkback is what a show's talkback may use: the shape of
// web.TalkbackRules, which enforces it (a conversion away).
type Talkback struct {
	Phones []string // endpoints a talkback may call
	Media  []string // media URIs a talkback may play
}

// Row is the spec as the shows table keeps it.
func (s Spec) Row() postgres.Show {
	settings, _ := json.Marshal(settings{
		Capacity: s.Capacity, MaxOnAir: s.MaxOnAir, MOHClass: s.MOHClass,
		AnnounceEvery:  duration(s.AnnounceEvery),
		TalkbackPhones: s.Talkback.Phones, TalkbackMedia: s.Talkback.Media,
		Host: s.Host, Hold: s.Hold, ReadyCheck: s.ReadyCheck, AnnounceWait: s.AnnounceWait, NextClears: s.NextClears,
		CallbackDial: s.Callback.Dial, CallbackCallerID: s.Callback.CallerID,
		CallbackOffer: duration(s.Config.Callback.Offer), CallbackNear: s.Config.Callback.NearFront,
		CallbackTries: s.Config.Callback.Attempts, CallbackGap: duration(s.Config.Callback.Gap),
		CallbackRinging: s.Config.Callback.MaxRinging, Nodes: s.Nodes,
	})
	return postgres.Show{Key: s.Key, Title: s.Title, Node: s.Node, LinesOpen: s.LinesOpen, Settings: settings}
}

// settings is the settings column of a show.
type settings struct {
	Capacity         int      `json:"capacity,omitempty"`
	MaxOnAir         int      `json:"max_on_air,omitempty"`
	MOHClass         string   `json:"moh_class,omitempty"`
	AnnounceEvery    duration `json:"announce_every,omitempty"`
	TalkbackPhones   []string `json:"talkback_phones,omitempty"`
	TalkbackMedia    []string `json:"talkback_media,omitempty"`
	Host             string   `json:"host,omitempty"`
	Hold             int      `json:"hold,omitempty"`
	ReadyCheck       bool     `json:"ready_check,omitempty"`
	AnnounceWait     bool     `json:"announce_wait,omitempty"`
	NextClears       string   `json:"next_clears,omitempty"`
	CallbackDial     string   `json:"callback_dial,omitempty"`
	CallbackCallerID string   `json:"callback_caller_id,omitempty"`
	CallbackOffer    duration `json:"callback_offer,omitempty"`
	CallbackNear     int      `json:"callback_near,omitempty"`
	CallbackTries    int      `json:"callback_tries,omitempty"`
	CallbackGap      duration `json:"callback_gap,omitempty"`
	CallbackRinging  int      `json:"callback_ringing,omitempty"`
	Nodes            []string `json:"nodes,omitempty"`
}

// duration is a time.Duration kept as "90s" in JSON.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = duration(v)
	return err
}

// FromRow is a stored show as the service runs it, with what its
// talkback may use. A show that names no music class gets
// DefaultMOHClass.
func FromRow(r postgres.Show) (broadcast.ShowConfig, Talkback, error) {
	var st settings
	if len(r.Settings) > 0 {
		if err := json.Unmarshal(r.Settings, &st); err != nil {
			return broadcast.ShowConfig{}, Talkback{}, fmt.Errorf("show %q: settings: %w", r.Key, err)
		}
	}
	if st.MOHClass == "" {
		st.MOHClass = DefaultMOHClass
	}
	return broadcast.ShowConfig{Config: queue.Config{
			Key: r.Key, Title: r.Title, Node: r.Node, LinesOpen: r.LinesOpen,
			Capacity: st.Capacity, MaxOnAir: st.MaxOnAir, MOHClass: st.MOHClass,
			AnnounceEvery: time.Duration(st.AnnounceEvery), ReadyCheck: st.ReadyCheck, AnnounceWait: st.AnnounceWait,
			Callback: queue.CallbackConfig{Offer: time.Duration(st.CallbackOffer), NearFront: st.CallbackNear,
				Attempts: st.CallbackTries, Gap: time.Duration(st.CallbackGap), MaxRinging: st.CallbackRinging},
		}, HostEndpoint: st.Host, HoldBridgeSize: st.Hold, NextClears: st.NextClears, Nodes: st.Nodes,
			CallbackLine: broadcast.CallbackLine{Dial: st.CallbackDial, CallerID: st.CallbackCallerID},
		}, Talkback{Phones: st.TalkbackPhones, Media: st.TalkbackMedia},
		nil
}

// Parse reads "key[,title=..][,node=..|studio=..][,nodes=A|B][,capacity=N][,max-on-air=N]
// [,moh=CLASS][,announce=DURATION][,talkback-phones=EP|EP]
// [,talkback-media=URI|URI][,host=EP][,hold=N][,ready-check][,next=hold|drop]
// [,callback=TEMPLATE[,callback-cid=NUMBER][,callback-offer=D]
// [,callback-near=N][,callback-tries=N][,callback-gap=D][,callback-ringing=N]]
// [,closed]". A show names defaultNode unless it says node= (or studio=,
// the same: the node of its on-air bridge); nodes= lists the nodes whose
// callers it takes as well (issue 24). An error
// begins with the spec, quoted, for the flag's name to go before it.
func Parse(spec, defaultNode string) (Spec, error) {
	parts := strings.Split(spec, ",")
	s := Spec{Config: queue.Config{Key: strings.TrimSpace(parts[0]), Node: defaultNode, LinesOpen: true, MOHClass: DefaultMOHClass, MaxOnAir: 4}}
	if s.Key == "" {
		return s, fmt.Errorf("%q: the key comes first", spec)
	}
	if _, err := queue.NewShow(queue.Config{Key: s.Key}); err != nil {
		return s, fmt.Errorf("%q: %v", spec, err)
	}
	s.Title = s.Key
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		err := s.parseSetting(k, v)
		if errors.Is(err, errUnknownSetting) {
			err = s.parseLine(k, v)
		}
		switch {
		case errors.Is(err, errUnknownSetting):
			return s, fmt.Errorf("%q: unknown setting %q (want title, node, studio, nodes, capacity, max-on-air, moh, announce, "+
				"announce-wait, talkback-phones, talkback-media, host, hold, ready-check, next, callback, callback-cid, callback-offer, "+
				"callback-near, callback-tries, callback-gap, callback-ringing, closed)", spec, k)
		case err != nil:
			return s, fmt.Errorf("%q: %s: %v", spec, k, err)
		case s.negative():
			return s, fmt.Errorf("%q: %s must not be negative", spec, k)
		}
	}
	if s.Callback.Dial == "" && (s.Config.Callback != queue.CallbackConfig{} || s.Callback.CallerID != "") {
		return s, fmt.Errorf("%q: callback settings need callback=TEMPLATE, e.g. callback=PJSIP/{number}@trunk", spec)
	}
	if s.Callback.Dial != "" && s.Config.Callback.Offer == 0 {
		s.Config.Callback.Offer = 5 * time.Minute
	}
	if s.Callback.CallerID != "" {
		s.Callback.CallerID = fmt.Sprintf("%q <%s>", s.Title, s.Callback.CallerID)
	}
	return s, nil
}

// parseSetting reads the queue and talkback settings of a show spec.
func (s *Spec) parseSetting(k, v string) error {
	var err error
	switch k {
	case "title":
		s.Title = v
	case "node", "studio":
		s.Node = v
	case "nodes":
		s.Nodes, err = listOf(v, nodeName, "node names as in --nodes")
	case "capacity":
		s.Capacity, err = strconv.Atoi(v)
	case "max-on-air":
		s.MaxOnAir, err = strconv.Atoi(v)
	case "moh":
		s.MOHClass = v
	case "announce":
		s.AnnounceEvery, err = time.ParseDuration(v)
	case "talkback-phones":
		s.Talkback.Phones, err = listOf(v, talkbackPhone, "an endpoint like PJSIP/producer1")
	case "talkback-media":
		s.Talkback.Media, err = listOf(v, talkbackMedia, "sound:<name> or recording:<name>, the name of lower-case letters, digits, '_' and '-' in folders")
	case "closed":
		s.LinesOpen = false
	case "announce-wait":
		s.AnnounceWait = true
	default:
		return errUnknownSetting
	}
	return err
}

// negative reports whether a number or duration of the spec is below 0.
func (s *Spec) negative() bool {
	cb := s.Config.Callback
	return s.Capacity < 0 || s.MaxOnAir < 0 || s.AnnounceEvery < 0 || cb.Offer < 0 || cb.NearFront < 0 ||
		cb.Attempts < 0 || cb.Gap < 0 || cb.MaxRinging < 0
}

var errUnknownSetting = errors.New("unknown setting")

// parseLine reads the telephony settings of a show spec: its host's phone,
// its holding bridges, the readiness check and call-back.
func (s *Spec) parseLine(k, v string) error {
	var err error
	switch k {
	case "host":
		s.Host, err = queue.ParseEndpoint(v)
	case "hold":
		if s.Hold, err = strconv.Atoi(v); err == nil && s.Hold < 0 {
			err = errors.New("must not be negative")
		}
		if s.Hold == 0 {
			s.Hold = -1 // hold=0: one holding bridge for the whole line
		}
	case "ready-check":
		s.ReadyCheck = true
	case "next":
		if v != broadcast.ClearHold && v != broadcast.ClearDrop {
			return fmt.Errorf("%q: want hold or drop (what Take next does first with the unlocked callers on air)", v)
		}
		s.NextClears = v
	case "callback":
		if !callbackDial.MatchString(v) || !strings.Contains(v, "{number}") {
			return fmt.Errorf("%q: want an endpoint template with {number}, like PJSIP/{number}@trunk", v)
		}
		s.Callback.Dial = v
	case "callback-cid":
		n := queue.NormalizeNumber(v)
		if n == "" {
			return fmt.Errorf("%q: want the station's number, like +12025550100", v)
		}
		s.Callback.CallerID = n // shown with the title, once it is known
	case "callback-offer":
		s.Config.Callback.Offer, err = time.ParseDuration(v)
	case "callback-near":
		s.Config.Callback.NearFront, err = strconv.Atoi(v)
	case "callback-tries":
		s.Config.Callback.Attempts, err = strconv.Atoi(v)
	case "callback-gap":
		s.Config.Callback.Gap, err = time.ParseDuration(v)
	case "callback-ringing":
		s.Config.Callback.MaxRinging, err = strconv.Atoi(v)
	default:
		return errUnknownSetting
	}
	return err
}

// callbackDial is a call-back's endpoint template: a plain endpoint, with
// {number} where the caller's normalised number goes.
var callbackDial = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*/[A-Za-z0-9_.@:+{}-]+$`)

// talkbackPhone is a dialable endpoint: a technology and a resource, with
// nothing Asterisk's dial string would read as a separator or an option.
var talkbackPhone = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*/[A-Za-z0-9_.@:+-]+$`)

// nodeName is a node's name as --nodes gives it.
var nodeName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// talkbackMedia is a configurable talkback message: a prompt or a stored
// recording, by a plain name.
var talkbackMedia = regexp.MustCompile(`^(sound|recording):[a-z0-9_-]+(/[a-z0-9_-]+)*$`)

// listOf splits a '|'-separated list and checks each item.
func listOf(v string, item *regexp.Regexp, want string) ([]string, error) {
	var out []string
	for _, x := range strings.Split(v, "|") {
		if x = strings.TrimSpace(x); x == "" {
			continue
		}
		if !item.MatchString(x) {
			return nil, fmt.Errorf("%q: want %s", x, want)
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list: want %s, separated by '|'", want)
	}
	return out, nil
}
