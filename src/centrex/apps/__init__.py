"""PBX applications behind the switch: the app server (an internal SIP user agent on 127.0.0.1, like a
media server beside Kamailio) and the apps it runs: voicemail deposit and retrieval.

The call engine routes a call to an app with a B-leg INVITE whose Request-URI user names the app
(``vm-deposit.<user>``, ``vm-main``, ``vm-login``) and whose X-Centrex-* headers say who is calling
for which tenant; see app_choice.py (server.py is the SIP user agent). The voicemail menu is a pure
state machine (vm_menu.py); the I/O (RTP, files, the store, e-mail) is in media.py, vm_store.py,
vm_mail.py and voicemail.py.
"""
