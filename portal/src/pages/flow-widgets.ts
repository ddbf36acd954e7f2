// The flow definition as the designer edits it: Twilio Studio's flow JSON (docs/flows.md,
// FLOWS.md), and the widget types of the palette with the transition events each one has and the
// properties a new one starts with (Studio's names, so an exported flow opens in Studio).

export type Offset = { x: number; y: number };
export type Transition = { event: string; next?: string | null; conditions?: unknown[]; [k: string]: unknown };
export type State = {
  name: string;
  type: string;
  transitions: Transition[];
  properties: { offset?: Offset; [k: string]: unknown };
};
export type Definition = {
  description?: string;
  initial_state: string;
  flags?: Record<string, unknown>;
  states: State[];
  [k: string]: unknown;
};

export type WidgetKind = {
  type: string;
  label: string;
  /** the name prefix of a new widget (Studio's: gather_1, split_1, ...) */
  prefix: string;
  events: string[];
  properties: () => Record<string, unknown>;
};

// The widget types of FLOWS.md, with Studio's transition events.
export const WIDGETS: WidgetKind[] = [
  { type: "say-play", label: "Say / Play", prefix: "say_play", events: ["audioComplete"], properties: () => ({ say: "Hello!", loop: 1 }) },
  {
    type: "gather-input-on-call", label: "Gather input", prefix: "gather", events: ["keypress", "speech", "timeout"],
    properties: () => ({ say: "Press 1 for sales, 2 for support.", timeout: 5, finish_on_key: "#", number_of_digits: 1, stop_gather: true }),
  },
  {
    type: "split-based-on", label: "Split based on…", prefix: "split", events: ["noMatch"],
    properties: () => ({ input: "{{trigger.message.Body}}" }),
  },
  { type: "set-variables", label: "Set variables", prefix: "set_variables", events: ["next"], properties: () => ({ variables: [{ key: "greeting", value: "hello" }] }) },
  {
    type: "send-message", label: "Send message", prefix: "send_message", events: ["sent", "failed"],
    properties: () => ({ body: "Thanks for your message.", from: "{{flow.channel.address}}", to: "{{contact.channel.address}}" }),
  },
  {
    type: "send-and-wait-for-reply", label: "Send & wait for reply", prefix: "send_and_reply", events: ["incomingMessage", "timeout", "deliveryFailure"],
    properties: () => ({ body: "Reply YES to confirm.", from: "{{flow.channel.address}}", timeout: "3600" }),
  },
  {
    type: "make-http-request", label: "HTTP request", prefix: "http", events: ["success", "failed"],
    properties: () => ({ method: "GET", url: "https://example.com/api", content_type: "application/json" }),
  },
  {
    type: "connect-call-to", label: "Connect call to", prefix: "connect_call", events: ["callCompleted", "hangup"],
    properties: () => ({ noun: "number", to: "1001", caller_id: "{{contact.channel.address}}", timeout: 30 }),
  },
  { type: "record-voicemail", label: "Record voicemail", prefix: "record_voicemail", events: ["recordingComplete", "noAudio", "hangup"], properties: () => ({ timeout: 5, finish_on_key: "#", max_length: 3600 }) },
  { type: "enqueue-call", label: "Enqueue call", prefix: "enqueue", events: ["callComplete", "failedToEnqueue", "callFailure"], properties: () => ({ queue_name: "support" }) },
  { type: "run-subflow", label: "Run subflow", prefix: "subflow", events: ["completed", "failed"], properties: () => ({ flow_sid: "", parameters: [] }) },
];

export const TRIGGER_EVENTS = ["incomingMessage", "incomingCall", "incomingRequest"];

export function kindOf(type: string): WidgetKind | undefined {
  return WIDGETS.find((w) => w.type === type);
}

export function emptyDefinition(): Definition {
  return {
    description: "A new flow",
    initial_state: "Trigger",
    flags: { allow_concurrent_calls: true },
    states: [
      { name: "Trigger", type: "trigger", transitions: TRIGGER_EVENTS.map((event) => ({ event })), properties: { offset: { x: 0, y: 0 } } },
    ],
  };
}

/** A definition as the API keeps it, with the fields the designer relies on filled in. */
export function normalise(raw: unknown): Definition {
  const d = (raw && typeof raw === "object" ? raw : {}) as Partial<Definition>;
  if (!Array.isArray(d.states) || d.states.length === 0) return { ...emptyDefinition(), ...d, states: emptyDefinition().states };
  return {
    ...d,
    initial_state: d.initial_state ?? "Trigger",
    states: d.states.map((s, i) => ({
      ...s,
      transitions: Array.isArray(s.transitions) ? s.transitions : [],
      properties: { ...(s.properties ?? {}), offset: s.properties?.offset ?? { x: 0, y: i * 160 } },
    })),
  } as Definition;
}

/** The next free name for a widget of this kind: gather_1, gather_2, ... */
export function freshName(def: Definition, kind: WidgetKind): string {
  const taken = new Set(def.states.map((s) => s.name));
  for (let i = 1; ; i++) if (!taken.has(`${kind.prefix}_${i}`)) return `${kind.prefix}_${i}`;
}

export function newState(def: Definition, kind: WidgetKind, at: Offset): State {
  return {
    name: freshName(def, kind),
    type: kind.type,
    transitions: kind.events.map((event) => ({ event })),
    properties: { ...kind.properties(), offset: { x: Math.round(at.x), y: Math.round(at.y) } },
  };
}

/** Rename a state and every transition (and the initial state) that points at it. */
export function renameState(def: Definition, from: string, to: string): Definition {
  return {
    ...def,
    initial_state: def.initial_state === from ? to : def.initial_state,
    states: def.states.map((s) => ({
      ...s,
      name: s.name === from ? to : s.name,
      transitions: s.transitions.map((t) => (t.next === from ? { ...t, next: to } : t)),
    })),
  };
}

export function removeState(def: Definition, name: string): Definition {
  return {
    ...def,
    states: def.states
      .filter((s) => s.name !== name)
      .map((s) => ({ ...s, transitions: s.transitions.map((t) => (t.next === name ? { event: t.event, ...(t.conditions ? { conditions: t.conditions } : {}) } : t)) })),
  };
}

export function updateState(def: Definition, name: string, f: (s: State) => State): Definition {
  return { ...def, states: def.states.map((s) => (s.name === name ? f(s) : s)) };
}

/** Point a state's transition (by its index) at another state, or at nothing. */
export function setNext(def: Definition, name: string, index: number, next: string | null): Definition {
  return updateState(def, name, (s) => ({
    ...s,
    transitions: s.transitions.map((t, i) => {
      if (i !== index) return t;
      const { next: _old, ...rest } = t;
      return next ? { ...rest, next } : rest;
    }),
  }));
}
