"""Routes off the switch: carrier trunks, settlement-free peers, customer PBX trunks with their
primary and secondary SBC pairs, and emergency routes (issue #6 point 5, voip-service-guide.txt
§I.4, peering-policy.txt). ``model.py`` and ``select.py`` are pure; ``storage.py`` loads them."""
