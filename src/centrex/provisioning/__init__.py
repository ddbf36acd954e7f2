"""Desk-phone auto-provisioning (issue 17 §2): each phone fetches its configuration by MAC address
over HTTP(S) from /provision/, rendered from the stored device, line, buttons, 911 location and
time zone through one Jinja2 template per vendor family. docs/provisioning.md."""
