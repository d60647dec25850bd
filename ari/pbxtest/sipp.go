package pbxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// SIPp is one sipp process this package started: callers or a phone. Stop
// ends it by its pid.
type SIPp struct {
	Port    int // its SIP port
	control int // its control port (callers only)
	dir     string
	cmd     *exec.Cmd
	done    chan struct{}

	mu     sync.Mutex
	err    error
	out    bytes.Buffer
	ended  time.Time // when it exited
	killed bool      // Stop had to kill it
}

// CallerConfig says who calls.
type CallerConfig struct {
	// Number is what they dial (the show's number in callin's dialplan,
	// e.g. 5550100).
	Number string
	// Prefix makes the callers' numbers: +<Prefix><n>, n counting from 1 in
	// each sipp (default 1555, the traces' callers).
	Prefix string
	// Count callers, Rate a second (default: all at once, up to 50 a second).
	Count int
	Rate  float64
	// Hold is how long each stays after the answer before hanging up
	// (default 10 minutes: until the test ends or Asterisk hangs up).
	Hold time.Duration
	// PressOne sends DTMF 1 (SIP INFO) right after the answer, so the
	// caller joins at once instead of after the IVR's time-out.
	PressOne bool
	// ToneHz is the tone the callers stream (default 440).
	ToneHz int
	// Port is where the callers send their INVITEs: 0 is the PBX's own
	// SIP port; another port (a Front's SIPPort: Front.Callers) makes
	// them a proxy's callers, who send the call's later requests (ACK,
	// INFO, BYE) by the Record-Route the proxy returned.
	Port int
	// Times keeps sipp's log of the SIP messages, with their times, for
	// SIPp.SetupTimes (a few kB a call).
	Times bool
	// MediaPort makes quiet callers: they send no RTP (as a phone with
	// silence suppression and a listener who says nothing), and their SDP
	// asks Asterisk to send its RTP to 127.0.0.1:MediaPort (an RTPMeter's)
	// instead of to sipp, which then neither streams nor reads media: a
	// caller costs the load generator next to nothing while waiting.
	MediaPort int
	// Limit, when set, keeps at most this many calls up at once (sipp's
	// -l) of the Count: SIPp.SetLimit raises it while sipp runs, so that
	// one sipp ramps its callers in steps (an idle sipp costs about 1.5 %
	// of a core whatever its calls, so a ramp by more processes costs
	// more).
	Limit int
}

// PhoneKind is how a phone answers.
type PhoneKind string

// The phones' ways.
const (
	PhoneAnswers  PhoneKind = "answers"  // rings 1 s, answers, streams its tone until hung up (or Hold)
	PhoneNoAnswer PhoneKind = "noanswer" // rings until the caller gives up
	PhoneBusy     PhoneKind = "busy"     // 486 Busy Here
	PhoneAway     PhoneKind = "away"     // 480 Temporarily Unavailable
)

// PhoneConfig says how PJSIP/phone<N> behaves.
type PhoneConfig struct {
	Kind   PhoneKind
	ToneHz int           // the tone it streams once answered (default 1000)
	Hold   time.Duration // an answered phone hangs up after this (default 10 minutes)
	Calls  int           // how many calls it takes before it exits (default 100)
	// Ring is how long an answering phone rings before it answers
	// (default 1 s; negative: it answers at once, after 180 Ringing).
	Ring time.Duration
}

// Callers starts sipp calling the instance as cfg says and stops it in t's
// cleanup. Each caller sends RTP (its tone) and receives what Asterisk plays.
func (p *PBX) Callers(t testing.TB, cfg CallerConfig) *SIPp {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = "1555"
	}
	if cfg.Count == 0 {
		cfg.Count = 1
	}
	if cfg.Rate == 0 {
		cfg.Rate = min(float64(cfg.Count), 50)
	}
	if cfg.Hold == 0 {
		cfg.Hold = 10 * time.Minute
	}
	if cfg.ToneHz == 0 {
		cfg.ToneHz = 440
	}
	to := p.SIPPort
	if cfg.Port != 0 {
		to = cfg.Port
	}
	scen := scenario(callerScenario, map[string]any{"PressOne": cfg.PressOne, "Hold": cfg.Hold.Milliseconds(), "Proxy": to != p.SIPPort,
		"MediaPort": cfg.MediaPort})
	limit := cfg.Count
	if cfg.Limit > 0 {
		limit = cfg.Limit
	}
	control, err := freeUDPBlock(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-s", cfg.Number, "-key", "prefix", cfg.Prefix, "-cp", strconv.Itoa(control),
		"-m", strconv.Itoa(cfg.Count), "-l", strconv.Itoa(limit),
		"-r", strconv.FormatFloat(cfg.Rate, 'f', 3, 64), "-rp", "1000",
		fmt.Sprintf("127.0.0.1:%d", to)}
	if cfg.Times {
		args = append(args, "-trace_msg") // SetupTimes
	}
	if cfg.MediaPort != 0 {
		args = append(args, "-timer_resol", "10")
	}
	s := p.sipp(t, scen, cfg.ToneHz, 0, args)
	s.control = control
	return s
}

// SetLimit lets sipp keep up to n calls at once (CallerConfig.Limit): it
// places more at its rate until n are up. It sends the command to sipp's
// control port (a UDP datagram, "cset limit N").
func (s *SIPp) SetLimit(n int) error {
	if s.control == 0 {
		return errors.New("pbxtest: SetLimit: not a callers' sipp")
	}
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", s.control))
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = fmt.Fprintf(c, "cset limit %d", n)
	return err
}

// Phone makes PJSIP/phone<n> (1 to 4) answer as cfg says, until t ends.
func (p *PBX) Phone(t testing.TB, n int, cfg PhoneConfig) *SIPp {
	t.Helper()
	if n < 1 || n > len(p.PhonePorts) {
		t.Fatalf("pbxtest: no phone%d (phones are 1 to %d)", n, len(p.PhonePorts))
	}
	if cfg.Kind == "" {
		cfg.Kind = PhoneAnswers
	}
	if cfg.ToneHz == 0 {
		cfg.ToneHz = 1000
	}
	if cfg.Hold == 0 {
		cfg.Hold = 10 * time.Minute
	}
	if cfg.Calls == 0 {
		cfg.Calls = 100
	}
	if cfg.Ring == 0 {
		cfg.Ring = time.Second
	}
	scen := scenario(phoneScenario, map[string]any{"Kind": string(cfg.Kind), "Hold": cfg.Hold.Milliseconds(), "Name": fmt.Sprintf("phone%d", n),
		"Ring": max(cfg.Ring.Milliseconds(), 0)})
	return p.sipp(t, scen, cfg.ToneHz, p.PhonePorts[n-1], []string{"-m", strconv.Itoa(cfg.Calls), "-aa"})
}

func scenario(tmpl *template.Template, data map[string]any) string {
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		panic(err) // the templates are this package's own
	}
	return b.String()
}

// sipp runs one sipp in a folder of its own with the scenario and a tone
// file, on its own SIP and media ports, and stops it in t's cleanup.
func (p *PBX) sipp(t testing.TB, scen string, toneHz, port int, args []string) *SIPp {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pbxtest: sipp is not installed: CI requires it (apt-get install sip-tester)")
		}
		t.Skip("pbxtest: sipp is not installed (apt-get install sip-tester)")
	}
	dir, err := os.MkdirTemp("", "sipp")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.xml"), []byte(scen), 0o644); err != nil {
		t.Fatal(err)
	}
	tone := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", filepath.Join(dir, "tone.ulaw"),
		"synth", "10", "sine", strconv.Itoa(toneHz), "vol", "0.3")
	if out, err := tone.CombinedOutput(); err != nil {
		t.Fatalf("pbxtest: sox: %v: %s", err, out)
	}
	if port == 0 {
		if port, err = freeUDPBlock(1, 1); err != nil {
			t.Fatal(err)
		}
	}
	media, err := freeUDPBlock(4, 2)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{"-sf", "scenario.xml", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(media), "-nostdin", "-trace_err", "-trace_msg"}, args...)
	cmd := exec.Command("sipp", all...)
	cmd.Dir = dir
	s := &SIPp{Port: port, dir: dir, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &lockedWriter{s}, &lockedWriter{s}
	// sipp dies with this process; Stop ends it sooner, by pid.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("pbxtest: sipp: %v", err)
	}
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.err, s.ended = err, time.Now()
		s.mu.Unlock()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("pbxtest: sipp on port %d said:\n%s", port, s.Output())
		}
		os.RemoveAll(dir)
	})
	return s
}

type lockedWriter struct{ s *SIPp }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.out.Len() < 1<<20 {
		w.s.out.Write(b)
	}
	return len(b), nil
}

// Output is what sipp printed, with the error log's last lines, how and
// when it ended, and its last messages.
func (s *SIPp) Output() string {
	s.mu.Lock()
	out := s.out.String()
	if !s.ended.IsZero() {
		out += fmt.Sprintf("\nsipp ended at %s: %v (killed by Stop after SIGINT: %t)",
			s.ended.Format("15:04:05.000"), s.err, s.killed)
	}
	s.mu.Unlock()
	logs, _ := filepath.Glob(filepath.Join(s.dir, "*_errors.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil {
			out += "\n" + tail(string(b), 20)
		}
	}
	logs, _ = filepath.Glob(filepath.Join(s.dir, "*_messages.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil {
			out += "\nlast messages (when, which way, first line, Call-ID, CSeq):\n" + tail(messageSummary(string(b)), 120)
		}
	}
	return out
}

// messageSummary keeps of sipp's -trace_msg log the lines that say which
// message went which way when: its separator (with the time), "UDP message
// sent/received", the request or status line, Call-ID and CSeq.
func messageSummary(log string) string {
	var b strings.Builder
	for _, l := range strings.Split(log, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "-----"), strings.Contains(t, "message sent"), strings.Contains(t, "message received"),
			strings.HasPrefix(t, "SIP/2.0 "), strings.HasSuffix(t, " SIP/2.0"),
			strings.HasPrefix(t, "Call-ID:"), strings.HasPrefix(t, "CSeq:"):
			b.WriteString(t)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Done is closed when sipp has exited (its calls all ended).
func (s *SIPp) Done() <-chan struct{} { return s.done }

// Hangup makes the caller on channel (its name, e.g.
// PJSIP/anonymous-00000003) hang up now, as a listener putting the phone
// down: Asterisk sends the caller's sipp a NOTIFY (pjsip send notify), and
// the scenario answers it and sends its BYE. sipp itself has no way to hang
// up one call on demand (SIGINT and SIGUSR1 end it without a BYE).
func (p *PBX) Hangup(ctx context.Context, channel string) error {
	out, err := p.CLI(ctx, "pjsip send notify callin-hangup channel "+channel)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "Sending NOTIFY") {
		return fmt.Errorf("pbxtest: hang up %s: %s", channel, strings.TrimSpace(out))
	}
	return nil
}

// Stop ends sipp by its pid at once (no BYE is sent) and waits for it.
func (s *SIPp) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	// SIGINT first: sipp then prints its last screen (the messages it
	// sent and got, for a failed test's log), ending its calls without a
	// BYE as a kill would; killed if it takes longer than a second.
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		s.mu.Lock()
		s.killed = true
		s.mu.Unlock()
		s.cmd.Process.Kill()
		<-s.done
	}
}

// sdpAudio is the SDP body of the callers' INVITE and the phones' 200 OK:
// one PCMU stream, both ways, from sipp's rtp_stream.
const sdpAudio = `      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio {{if .MediaPort}}{{.MediaPort}}{{else}}[rtpstream_audio_port]{{end}} RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
      a=sendrecv
`

// callerScenario is shared/asterisk/sipp/caller.xml's caller with a numbered
// From (+<prefix><n>), an optional DTMF 1 by SIP INFO after the answer, and
// an end either way: Asterisk's BYE is answered, or the caller hangs up
// after Hold. Through a proxy (Proxy: CallerConfig.Port), the ACK, INFO
// and BYE go to the answer's Contact by its Record-Route, as a carrier's
// trunk sends them through a front.
var callerScenario = template.Must(template.New("caller").Parse(`{{define "from"}}From: "Caller [call_number]" <sip:+[prefix][call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]{{end}}
{{- define "ruri"}}{{if .Proxy}}[next_url]{{else}}sip:[service]@[remote_ip]:[remote_port]{{end}}{{end}}
{{- define "in-dialog"}}Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      {{- if .Proxy}}
      [routes]{{end}}
      {{template "from"}}
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>;[$rtag]
      Call-ID: [call_id]{{end}}
{{- define "ok"}}SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: sip:sipp@[local_ip]:[local_port]
      Content-Length: 0{{end -}}
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="callin test caller">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      {{template "from"}}
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

` + sdpAudio + `
    ]]>
  </send>
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="183" optional="true"></recv>
  <recv response="200" rtd="true"{{if .Proxy}} rrs="true"{{end}}>
    <action>
      <ereg regexp="tag=[^;> ]*" search_in="hdr" header="To:" assign_to="rtag"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      ACK {{template "ruri" .}} SIP/2.0
      {{template "in-dialog" .}}
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
{{- if not .MediaPort}}
  <nop>
    <action>
      <exec rtp_stream="tone.ulaw,-1,0"/>
    </action>
  </nop>
{{- end}}
{{- if .PressOne}}
  <pause milliseconds="300"/>
  <send retrans="500">
    <![CDATA[

      INFO {{template "ruri" .}} SIP/2.0
      {{template "in-dialog" .}}
      CSeq: 2 INFO
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=1
      Duration=160

    ]]>
  </send>
  <recv response="200"></recv>
{{- end}}
  <label id="wait"/>
  <!-- A second 200 to the INFO: Asterisk answered after sipp's
       retransmission at 500 ms (a busy machine). Unexpected, it aborted
       the call without a BYE: the caller went quiet and ignored the
       NOTIFY that asks it to hang up. -->
  <recv response="200" optional="true" next="wait"></recv>
  <recv request="NOTIFY" optional="true" next="notified"></recv>
  <recv request="BYE" timeout="{{.Hold}}" ontimeout="hangup"></recv>
  <send next="end">
    <![CDATA[

      {{template "ok"}}

    ]]>
  </send>
  <label id="notified"/>
  <send>
    <![CDATA[

      {{template "ok"}}

    ]]>
  </send>
  <label id="hangup"/>
  <send retrans="500">
    <![CDATA[

      BYE {{template "ruri" .}} SIP/2.0
      {{template "in-dialog" .}}
      CSeq: 3 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"></recv>
  <label id="end"/>
</scenario>
`))

// phoneScenario is shared/asterisk/sipp's phone-*.xml in one: a phone that
// answers (and streams its tone until either side hangs up), never answers,
// is busy or is unavailable.
var phoneScenario = template.Must(template.New("phone").Parse(`{{define "answer"}}[last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{{.Name}}@[local_ip]:[local_port];transport=[transport]>{{end -}}
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="callin test phone {{.Kind}}">
  <recv request="INVITE" crlf="true">
{{- if eq .Kind "answers"}}
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="rfrom"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="lto"/>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="rcontact"/>
    </action>
{{- end}}
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 100 Trying
      {{template "answer" .}}
      Content-Length: 0

    ]]>
  </send>
{{- if or (eq .Kind "busy") (eq .Kind "away")}}
  <send>
    <![CDATA[

      SIP/2.0 {{if eq .Kind "busy"}}486 Busy Here{{else}}480 Temporarily Unavailable{{end}}
      {{template "answer" .}}
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
{{- else}}
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      {{template "answer" .}}
      Content-Length: 0

    ]]>
  </send>
{{- if eq .Kind "noanswer"}}
  <recv request="CANCEL"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[

      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [cseq] INVITE
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
{{- else}}
{{- if gt .Ring 0}}
  <pause milliseconds="{{.Ring}}"/>
{{- end}}
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      {{template "answer" .}}
      Content-Type: application/sdp
      Content-Length: [len]

` + sdpAudio + `
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <nop>
    <action>
      <exec rtp_stream="tone.ulaw,-1,0"/>
    </action>
  </nop>
  <recv request="BYE" timeout="{{.Hold}}" ontimeout="hangup"/>
  <send next="end">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <label id="hangup"/>
  <send retrans="500">
    <![CDATA[

      BYE [$rcontact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$lto];tag=[pid]SIPpTag01[call_number]
      To: [$rfrom]
      [last_Call-ID:]
      CSeq: 1 BYE
      Contact: <sip:{{.Name}}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
  <label id="end"/>
{{- end}}
{{- end}}
</scenario>
`))
