// The Centrex browser phone: JsSIP over SIP-over-WebSocket (RFC 7118) to `centrex serve`'s WS port.
// Media is WebRTC (DTLS-SRTP + ICE); the switch bridges it to plain RTP through rtpengine.
// Registers with the line's SIP credentials, like a desk phone: it is one of the user's devices.
import JsSIP from "jssip";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
for (const name of ["server", "user", "domain"]) if (params.get(name)) $(name).value = params.get(name);
if (!$("domain").value) $("domain").value = location.hostname;
if (params.get("debug")) JsSIP.debug.enable("JsSIP:*"); // the SIP messages in the console

// What a test (or a curious user) can read: the phone's state and what happened, in order.
const phone = { registration: "unregistered", call: "idle", held: false, media: "new", events: [] };
window.centrexPhone = phone;
// The media path's figures (ICE pair, DTLS, packets and codec) for tests and support.
phone.stats = async () => {
  if (!session || !session.connection) return [];
  const report = await session.connection.getStats();
  const wanted = ["candidate-pair", "transport", "outbound-rtp", "inbound-rtp", "local-candidate", "remote-candidate", "codec"];
  return [...report.values()].filter((s) => wanted.includes(s.type));
};

let ua = null;
let session = null;

function log(text) {
  phone.events.push(text);
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("log").prepend(li);
}

function setRegistration(state, label) {
  phone.registration = state;
  $("reg-state").dataset.state = state;
  $("reg-state").textContent = label;
  const on = state === "registered";
  $("login").classList.toggle("signed-in", ua !== null);
  $("identity").textContent = ua ? `${$("user").value}@${$("domain").value}` : "";
  $("call").disabled = !on || session !== null;
  $("unregister").disabled = ua === null;
  $("register").disabled = ua !== null;
}

function setCall(state, label) {
  phone.call = state;
  $("call-state").dataset.state = state;
  $("call-state").textContent = label;
  const live = state === "confirmed";
  $("hangup").disabled = session === null;
  $("answer").disabled = state !== "incoming";
  $("answer").hidden = state !== "incoming";
  $("hold").disabled = !live;
  $("transfer-go").disabled = !live;
  for (const b of $("keypad").querySelectorAll("button")) b.disabled = !live;
  $("call").disabled = phone.registration !== "registered" || session !== null;
}

function renderHold() {
  $("hold").setAttribute("aria-pressed", String(phone.held));
  $("hold").textContent = phone.held ? "Resume" : "Hold";
  if (session && phone.call === "confirmed") {
    $("call-state").textContent = phone.held ? "On hold" : `In call with ${phone.peer}`;
  }
}

function attachAudio(pc) {
  pc.addEventListener("connectionstatechange", () => {
    phone.media = pc.connectionState; // ICE + DTLS to the switch's media gateway
    log(`media ${pc.connectionState}`);
  });
  const play = () => {
    const stream = new MediaStream();
    for (const r of pc.getReceivers()) if (r.track) stream.addTrack(r.track);
    $("remote").srcObject = stream;
  };
  pc.addEventListener("track", play);
  play();
}

function track(s, direction) {
  session = s;
  phone.held = false;
  renderHold();
  const who = direction === "incoming" ? s.remote_identity.uri.user : $("target").value;
  phone.peer = who;
  setCall(direction === "incoming" ? "incoming" : "calling", direction === "incoming" ? `Incoming call from ${who}` : `Calling ${who}…`);
  if (s.connection) attachAudio(s.connection);
  s.on("peerconnection", (e) => attachAudio(e.peerconnection));
  s.on("progress", () => { if (direction === "outgoing") setCall("ringing", `Ringing ${who}…`); });
  s.on("accepted", () => log(`${direction} call answered`));
  s.on("confirmed", () => { setCall("confirmed", `In call with ${who}`); log("call confirmed"); });
  s.on("hold", () => { phone.held = true; renderHold(); log("held"); });
  s.on("unhold", () => { phone.held = false; renderHold(); log("resumed"); });
  s.on("newDTMF", (e) => { if (e.originator === "local") log(`DTMF ${e.dtmf.tone}`); }); // SIP INFO
  s.on("refer", () => log("refer received"));
  const end = (why) => () => {
    session = null;
    setCall("idle", "Idle");
    log(why);
  };
  s.on("ended", end("call ended"));
  s.on("failed", (e) => end(`call failed: ${e.cause}`)());
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const socket = new JsSIP.WebSocketInterface($("server").value);
  ua = new JsSIP.UA({
    sockets: [socket],
    uri: `sip:${$("user").value}@${$("domain").value}`,
    password: $("password").value,
    display_name: $("user").value,
    register: true,
    session_timers: false,
    user_agent: "Centrex Phone (JsSIP)",
  });
  ua.on("connecting", () => setRegistration("connecting", "Connecting…"));
  ua.on("registered", () => { setRegistration("registered", "Registered"); log("registered"); });
  ua.on("unregistered", () => setRegistration("unregistered", "Not registered"));
  ua.on("registrationFailed", (e) => { setRegistration("failed", `Registration failed: ${e.cause}`); log(`registration failed: ${e.cause}`); });
  ua.on("disconnected", () => { if (phone.registration === "registered") setRegistration("connecting", "Reconnecting…"); });
  ua.on("newRTCSession", (e) => {
    if (session !== null && e.originator === "remote") {
      e.session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    if (e.originator === "remote") { track(e.session, "incoming"); log(`incoming call from ${e.session.remote_identity.uri.user}`); }
  });
  ua.start();
  setRegistration("connecting", "Connecting…");
});

$("unregister").addEventListener("click", () => {
  if (ua) { ua.stop(); ua = null; }
  setRegistration("unregistered", "Not registered");
});

const mediaOptions = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] }, rtcOfferConstraints: { offerToReceiveAudio: true } };

$("dial").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const target = $("target").value.trim();
  if (!ua || !target || session) return;
  const s = ua.call(`sip:${target}@${$("domain").value}`, mediaOptions);
  track(s, "outgoing");
  log(`calling ${target}`);
});

$("answer").addEventListener("click", () => { if (session) session.answer(mediaOptions); });
$("hangup").addEventListener("click", () => { if (session) session.terminate(); });
$("hold").addEventListener("click", () => {
  if (!session) return;
  // A re-INVITE with a=sendonly (RFC 3264 §8.4); the button follows when the far side agreed.
  if (phone.held) session.unhold(); else session.hold();
});
$("transfer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const target = $("transfer-target").value.trim();
  if (!session || !target) return;
  session.refer(`sip:${target}@${$("domain").value}`); // blind transfer (RFC 3515)
  log(`transfer to ${target}`);
});
// DTMF as RFC 4733 telephone-events in the media (the browser's RTCDTMFSender), not SIP INFO.
const watched = new WeakSet();
function watchDtmf(s) {
  // Each tone the browser's RTCDTMFSender actually starts playing into the RTP stream.
  const sender = s.connection && s.connection.getSenders().find((x) => x.track && x.track.kind === "audio");
  if (sender && sender.dtmf && !watched.has(sender.dtmf)) {
    watched.add(sender.dtmf);
    sender.dtmf.addEventListener("tonechange", (e) => { if (e.tone) log(`DTMF ${e.tone}`); });
  }
}
$("keypad").addEventListener("click", (ev) => {
  const tone = ev.target.dataset && ev.target.dataset.tone;
  if (!tone || !session) return;
  watchDtmf(session);
  session.sendDTMF(tone, { transportType: "RFC2833", duration: 160, interToneGap: 100 });
});

setRegistration("unregistered", "Not registered");
setCall("idle", "Idle");
