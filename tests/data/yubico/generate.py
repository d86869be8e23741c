"""Regenerates otps.json: Yubico OTPs made by an implementation independent of twofold's,
the `yubiotp` package (pip install yubiotp==1.0.0; it brings pycryptodome).

    python3 tests/data/yubico/generate.py > tests/data/yubico/otps.json

Deterministic: fixed key, ids, timestamps and random fields, so a rerun gives the same file.
In yubiotp's names, OTP.session is the use counter (non-volatile, +1 each plug-in) and
OTP.counter the session counter (volatile, +1 each touch, 0 after plug-in).
personalization.csv (ykman otp yubiotp -O format) and configuration_log.csv (the YubiKey
Personalization Tool's default log) beside this file are written by hand with the same key.
"""
import json
from binascii import unhexlify

from Crypto.Cipher import AES  # pycryptodome, yubiotp's dependency
from yubiotp.crc import verify_crc16
from yubiotp.modhex import modhex, unmodhex
from yubiotp.otp import OTP, decode_otp, encode_otp

AES_KEY_HEX = "3bd9f2a8c1e04d7f96b25e08a1c3d4f7"
PRIVATE_ID_HEX = "a1b2c3d4e5f6"
PUBLIC_ID = "vvcijgklnrbf"  # 6 bytes, modhex (Yubico-issued ids start with cc; vv = self-programmed)
OTHER_KEY_HEX = "00112233445566778899aabbccddeeff"
OTHER_PRIVATE_ID_HEX = "a1b2c3d4e5f7"

key = unhexlify(AES_KEY_HEX)
uid = unhexlify(PRIVATE_ID_HEX)
public = PUBLIC_ID.encode()


def make(use, session, timestamp, rand, aes_key=key, private_id=uid):
    otp = OTP(private_id, use, timestamp, session, rand)
    return encode_otp(otp, aes_key, public).decode()


otps = []
# Plug-in with use counter 7: four touches (session counter 0..3), timestamp ~8 Hz.
for session in range(4):
    otps.append((7, session, 0x01F3A0 + 40 * session, 0x1234 + session))
# Plug-in again: use counter 8, session counter back to 0, timer restarts at another value.
for session in range(3):
    otps.append((8, session, 0x00A000 + 24 * session, 0xBEEF - session))
# A use counter past 255 (both bytes of the little-endian field matter).
otps.append((0x0102, 0, 0x7FFFFF, 0x0001))

rows = []
for use, session, timestamp, rand in otps:
    token = make(use, session, timestamp, rand)
    # Self-check with the package's own decoder.
    assert decode_otp(token.encode(), key)[1] == OTP(uid, use, timestamp, session, rand)
    rows.append({"otp": token, "use_counter": use, "session_counter": session, "timestamp": timestamp})

other_key = make(9, 0, 0x010000, 0x4242, aes_key=unhexlify(OTHER_KEY_HEX))
other_private_id = make(9, 1, 0x010008, 0x4343, private_id=unhexlify(OTHER_PRIVATE_ID_HEX))

# A flipped CRC byte: the CRC is inside the AES block (flipping a ciphertext bit would scramble
# all 16 bytes), so encrypt a block whose first CRC byte has one bit flipped.
good = OTP(uid, 9, 0x010010, 2, 0x4444).pack()
bad_block = good[:14] + bytes([good[14] ^ 0x01]) + good[15:]
assert not verify_crc16(bad_block)
bad_crc = PUBLIC_ID + modhex(AES.new(key, AES.MODE_ECB).encrypt(bad_block)).decode()
assert unmodhex(bad_crc[12:].encode()) == AES.new(key, AES.MODE_ECB).encrypt(bad_block)

doc = {
    "generator": "tests/data/yubico/generate.py (yubiotp 1.0.0)",
    "aes_key_hex": AES_KEY_HEX,
    "private_id_hex": PRIVATE_ID_HEX,
    "public_id": PUBLIC_ID,
    "otps": rows,
    "bad": {"other_key": other_key, "other_private_id": other_private_id, "bad_crc": bad_crc},
}
print(json.dumps(doc, indent=2))
