"""Campaigns (issue 20 §2; cpaas.txt §2.2.2 Atmosphere Engage): contact lists with consent, scheduled
SMS and voice-app campaigns, quiet hours by the contact's local time, do-not-call scrubs, throttling,
per-campaign reports and a year of engagement history. docs/campaigns.md is the guide."""
