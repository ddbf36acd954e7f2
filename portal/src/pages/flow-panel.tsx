// The flow designer's properties panel: the selected widget's name, its properties (text, numbers
// and switches in place; lists and objects as JSON) and where each of its transitions goes.
import { useEffect, useState } from "preact/hooks";
import { kindOf, removeState, renameState, setNext, updateState, type Definition, type State } from "./flow-widgets";

function JsonField(props: { label: string; value: unknown; onChange: (v: unknown) => void; testid?: string }) {
  const [text, setText] = useState(JSON.stringify(props.value, null, 2));
  const [err, setErr] = useState("");
  useEffect(() => setText(JSON.stringify(props.value, null, 2)), [props.value]);
  return (
    <div class={`field ${err ? "invalid" : ""}`}>
      <label>{props.label}</label>
      <textarea
        rows={4}
        value={text}
        data-testid={props.testid}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onBlur={() => {
          try {
            props.onChange(JSON.parse(text));
            setErr("");
          } catch (e) {
            setErr(`Not JSON: ${(e as Error).message}`);
          }
        }}
      />
      {err && <small class="error-text">{err}</small>}
    </div>
  );
}

function PropField(props: { name: string; value: unknown; onChange: (v: unknown) => void }) {
  const { name, value } = props;
  const id = `p-${name}`;
  if (typeof value === "boolean")
    return (
      <label class="check">
        <input id={id} type="checkbox" checked={value} onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)} /> {name}
      </label>
    );
  if (typeof value === "number")
    return (
      <div class="field">
        <label for={id}>{name}</label>
        <input id={id} type="number" value={value} onInput={(e) => props.onChange(Number((e.target as HTMLInputElement).value))} />
      </div>
    );
  if (typeof value === "string" || value == null)
    return (
      <div class="field">
        <label for={id}>{name}</label>
        {name === "say" || name === "body" || (value ?? "").length > 40 ? (
          <textarea id={id} rows={3} value={value ?? ""} onInput={(e) => props.onChange((e.target as HTMLTextAreaElement).value)} />
        ) : (
          <input id={id} value={value ?? ""} onInput={(e) => props.onChange((e.target as HTMLInputElement).value)} />
        )}
      </div>
    );
  return <JsonField label={name} value={value} onChange={props.onChange} />;
}

export function PropertiesPanel(props: { definition: Definition; name: string | null; warnings: string[]; onChange: (d: Definition, selected?: string | null) => void }) {
  const { definition: def } = props;
  const state = def.states.find((s) => s.name === props.name);
  const [name, setName] = useState(state?.name ?? "");
  const [nameErr, setNameErr] = useState("");
  useEffect(() => {
    setName(state?.name ?? "");
    setNameErr("");
  }, [state?.name]);
  if (!state) return <p class="muted" data-testid="flow-properties">Select a widget to edit it. Drag from a widget's port (the dots under it, one per transition) to another widget to connect them.</p>;

  const set = (f: (s: State) => State) => props.onChange(updateState(def, state.name, f));
  const rename = () => {
    const to = name.trim();
    if (to === state.name) return;
    // The canvas keys widgets by name, so two may not share one; what a name may be is the API's
    // rule (a refused name comes back in the 422 of the next save).
    if (!to || def.states.some((s) => s.name === to)) return setNameErr(to ? "Another widget has that name." : "A widget needs a name.");
    setNameErr("");
    props.onChange(renameState(def, state.name, to), to);
  };
  const others = def.states.filter((s) => s.name !== state.name && s.type !== "trigger");
  const kind = kindOf(state.type);
  return (
    <div class="form flow-properties" data-testid="flow-properties">
      <div class="muted small">{state.type === "trigger" ? "Trigger" : kind?.label ?? state.type} · <code>{state.type}</code></div>
      {props.warnings.map((w) => <div class="notice info small">⚠ {w}</div>)}
      <div class={`field ${nameErr ? "invalid" : ""}`}>
        <label for="p-name">Name</label>
        <input id="p-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} onBlur={rename} onKeyDown={(e) => e.key === "Enter" && rename()} />
        {nameErr && <small class="error-text">{nameErr}</small>}
      </div>
      {Object.entries(state.properties)
        .filter(([k]) => k !== "offset")
        .map(([k, v]) => (
          <PropField name={k} value={v} onChange={(nv) => set((s) => ({ ...s, properties: { ...s.properties, [k]: nv } }))} />
        ))}
      <h3 class="flow-sub">Transitions</h3>
      {state.transitions.map((t, i) => (
        <div class="flow-transition">
          <div class="field">
            <label for={`t-${i}`}>{t.event}</label>
            <select id={`t-${i}`} data-testid={`next-${t.event}-${i}`} value={t.next ?? ""} onChange={(e) => props.onChange(setNext(def, state.name, i, (e.target as HTMLSelectElement).value || null))}>
              <option value="">— ends the flow —</option>
              {others.map((o) => <option value={o.name}>{o.name}</option>)}
            </select>
          </div>
          {t.event === "match" && (
            <JsonField
              label="conditions"
              value={t.conditions ?? []}
              onChange={(v) => set((s) => ({ ...s, transitions: s.transitions.map((x, j) => (j === i ? { ...x, conditions: v as unknown[] } : x)) }))}
            />
          )}
          {t.event === "match" && (
            <button type="button" class="ghost small danger" onClick={() => set((s) => ({ ...s, transitions: s.transitions.filter((_, j) => j !== i) }))}>Remove condition</button>
          )}
        </div>
      ))}
      {state.type === "split-based-on" && (
        <button
          type="button"
          class="ghost small"
          onClick={() =>
            set((s) => ({
              ...s,
              transitions: [
                ...s.transitions,
                { event: "match", conditions: [{ friendly_name: "If value equal_to 1", arguments: [String(s.properties.input ?? "")], type: "equal_to", value: "1" }] },
              ],
            }))
          }
        >
          + Condition
        </button>
      )}
      {state.type !== "trigger" && (
        <div class="form-actions">
          <button type="button" class="ghost danger" data-testid="remove-widget" onClick={() => props.onChange(removeState(def, state.name), null)}>Remove widget</button>
        </div>
      )}
    </div>
  );
}
