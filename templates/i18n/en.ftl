# twofold's hosted pages, in English: the fallback of every other language.
# Each message id must exist in every language (tests check it). Variables: $site is the
# relying party's display name; numbers choose plural forms.

## Headings and the way back

verify-title = Sign in to { $site }
verify-heading = Confirm it's you
verify-intro = Enter the code your authenticator app, phone or key fob shows.
enroll-title = Set up two-step sign-in for { $site }
enroll-heading = Set up two-step sign-in
cancel = Cancel and return to { $site }
error-title-prefix = Error: { $title }
error-summary = There is a problem

## The code fields

code-label = Code
code-help = 6 digits, from your app, phone or key fob.
recovery-label = Recovery code
recovery-help = One of the codes you saved, like abcd-efgh-jkmn. Each works once.
use-recovery = Use a recovery code instead
use-code = Use a code from your app or phone instead
continue-button = Continue
your-devices = Your devices
wrong-code = That code is not right. Check it and try again.
wrong-code-tries-left = { $count ->
    [one] That code is not right. One more wrong code locks sign-in for a while.
   *[other] That code is not right. { $count } more wrong codes lock sign-in for a while.
}
code-missing = Enter the code first.
locked = { $minutes ->
    [one] Too many attempts. Try again at { $time } (UTC), in 1 minute.
   *[other] Too many attempts. Try again at { $time } (UTC), in { $minutes } minutes.
}
locked-help = If this was not you, or you need help now, contact { $site }'s support.

## Text messages

send-text = Text me a code
send-new = Send a new code
text-sent = We sent a code to your phone ending in { $ending }.
resend-in = { $seconds ->
    [one] You can ask for another code in 1 second.
   *[other] You can ask for another code in { $seconds } seconds.
}
use-another-number = Use another number

## Step-up before adding a device

step-up-intro = You already have a device. Enter a code from it before adding another one.
step-up-again = First a code from your existing device, please (a code from before is used up or more than five minutes old).

## Choosing a device

choose-intro = How do you want to get your codes?
choose-app = Authenticator app
choose-app-help = Google Authenticator, 1Password, Authy, FreeOTP or any other TOTP app.
choose-phone = Text message
phone-label = Mobile number
phone-help = With the country code, like +44 7400 123456.
phone-weaker = Text messages are the weaker choice: prefer an app if you can.
phone-invalid = Enter your mobile number with its country code, like +44 7400 123456.
phone-missing = Enter your mobile number first.
phone-too-many = You have tried several numbers on this page. Go back to the site you came from and start again.
scan-intro = Scan this QR code with your authenticator app.
qr-name = QR code to scan with your authenticator app
manual-key = Or type this key into the app:
open-in-app = On this phone? Open it in your app
confirm-intro-app = Then enter the code the app shows.
confirm-intro-phone = Enter the code we texted to { $phone }.

## Done, and recovery codes

done-title = You're all set
done-intro = Your new device is ready. Next time you sign in, you'll be asked for a code.
done-intro-key = Your security key is ready. Next time you sign in, you'll be asked for it.
recovery-title = Save your recovery codes
recovery-intro = If you lose your device, each of these codes gets you in once. Keep them somewhere safe, like a password manager or a printout.
recovery-shown-once = Once you continue they are not shown again, and they replace any codes you had.
recovery-offer = You already have recovery codes. New ones replace them.
recovery-make = Make new recovery codes
recovery-download = Download the codes (.txt)
recovery-saved = I have saved these codes
recovery-saved-missing = Tick the box to say you have saved the codes: they are not shown again.
recovery-file-heading = Recovery codes for { $site }. Each works once.

## Pages that cannot be used

error-title = This page can't be used
continue-link = Continue
link-invalid = This link is not valid. Go back to the site you came from and try again.
link-expired = This link has expired. Go back to the site you came from and try again.
link-used = This link was already used. Go back to the site you came from and try again.
form-stale = This form is stale. Reload the page and try again.
unavailable = Something is not working on our side. Please try again in a minute.

## Hardware tokens

choose-token = Use this token
choose-token-help = A key fob or card from your organisation that shows a code when you press its button, or a YubiKey.
serial-label = Serial number (printed on the back)
token-code-label = A code it shows now
resync-title = Code not accepted from your key fob?
resync-help = If its button was pressed many times, it can be out of step. Press it twice and enter both codes, in order.
resync-first = First code
resync-second = Next code
resync-button = Bring my token back in step
resync-done = Your token is back in step. Press it once more and enter the new code.

## Security keys

use-key = Use your security key
key-intro = Insert or tap your security key when your browser asks.
or-code = Or enter a code from your authenticator app or phone instead.
choose-key = Security key
choose-key-help = A physical key such as a YubiKey: the strongest choice. Your browser will ask you to insert or tap it.
key-needs-script = Security keys need JavaScript, which is off in this browser. You can use a code instead.
key-unsupported = This browser cannot use security keys. You can use a code instead.
key-failed = The security key did not answer, or the request was cancelled. Try again.
key-refused = That security key was not accepted. Try again, or use a code.

## Default device names (when the relying party gives none)

label-app = Authenticator app, added { $date }
label-app-counter = Authenticator app (counter), added { $date }
label-phone = Phone ending { $digits }
label-key = Security key
label-key-model = Security key ({ $model })
label-token = Key fob { $serial }
label-yubikey = YubiKey { $serial }
date-short = { $day } { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
}
