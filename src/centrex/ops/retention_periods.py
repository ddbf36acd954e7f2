"""Every retention and lifecycle period of the contracts, in one place, with its source.

The jobs that enforce them are in ops/jobs/ (``builtin_registry``). The CPaaS stores (message
content, transcriptions, engagement history, insights, message and application detail records) do
not exist yet: when they land, their jobs register in the same registry and take their periods from
here (docs/lifecycle.md).
"""

from __future__ import annotations

from datetime import timedelta

# hosted-pbx.txt, data protection 2.f: recordings are deleted "on expiration of the retention period
# (i.e. default of 12 months)"; a tenant may set its own (recording_settings.retention_months).
RECORDING_MONTHS = 12

# cpaas.txt §2.4.2 (i): "any content of the communications in their entirety, along with any
# transcription materials, for thirty (30) days from successful processing".
MESSAGE_CONTENT = timedelta(days=30)
TRANSCRIPTION = timedelta(days=30)

# cpaas.txt §2.4.2 (ii): "any contact engagement history from Engage for no longer than one (1) year".
ENGAGEMENT_HISTORY_MONTHS = 12

# cpaas.txt §2.4.2 (iii): "real-time Insights analytics for three (3) days, hourly Insights analytics
# for fourteen (14) days, and daily Insights analytics for ninety (90) days".
INSIGHTS_REALTIME = timedelta(days=3)
INSIGHTS_HOURLY = timedelta(days=14)
INSIGHTS_DAILY = timedelta(days=90)

# cpaas.txt §2.4.2 (iv): "the records for application detail, call detail, and message detail for no
# longer than three (3) years" (CDRs now; MDRs and application detail records when they are stored).
DETAIL_RECORD_MONTHS = 36

# cpaas.txt §3.2: an account "inactive for over one hundred and twenty (120) consecutive calendar
# days" may be deactivated ("reserves the right": the job reports; an operator setting acts).
INACTIVE_ACCOUNT = timedelta(days=120)

# cpaas.txt §2.3.8: "After termination of Service, Customer will have thirty (30) days to obtain
# copies of any information stored ... otherwise IntelePeer will delete such information".
EXPORT_WINDOW = timedelta(days=30)

# Voicemail: no contract period; each tenant's own policy (tenant_lifecycle.voicemail_retention_days),
# kept until the owner deletes it when the tenant has none.
