"""Flows (issue 20 §1, cpaas.txt §2.2.1 SmartFlows): Twilio Studio's flow JSON, run natively.

- schema.py: JSON-Schema validation and the lint (unreachable, dead-end, unknown next) on save
- templates.py: Liquid over {flow, trigger, widgets, contact} (python-liquid)
- widgets.py: the widget interface (Outcome, FlowContext, register) — the voice widgets plug in here
- runtime.py: runs an execution, logs every step, emits ``flow.step`` events
- basic_widgets.py, http_widget.py, message_widgets.py: the non-call widgets
- engine.py: where executions run (the loop), REST/message starts, replies awaited
- store.py: flows, drafts, publishing, executions on storage
"""
