# Les pages de twofold, en français. Chaque message de en.ftl existe ici (les tests le
# vérifient). $site est le nom affiché du site qui demande.

## Titres et retour

verify-title = Connexion à { $site }
verify-heading = Confirmez que c'est bien vous
verify-intro = Saisissez le code affiché par votre application d'authentification, votre téléphone ou votre porte-clés.
enroll-title = Activer la validation en deux étapes pour { $site }
enroll-heading = Activer la validation en deux étapes
cancel = Annuler et revenir à { $site }
error-title-prefix = Erreur : { $title }
error-summary = Il y a un problème

## Les champs de code

code-label = Code
code-help = 6 chiffres, donnés par votre application, votre téléphone ou votre porte-clés.
recovery-label = Code de secours
recovery-help = L'un des codes que vous avez enregistrés, comme abcd-efgh-jkmn. Chacun ne sert qu'une fois.
use-recovery = Utiliser plutôt un code de secours
use-code = Utiliser plutôt un code de votre application ou de votre téléphone
continue-button = Continuer
your-devices = Vos appareils
wrong-code = Ce code n'est pas le bon. Vérifiez-le et réessayez.
wrong-code-tries-left = { $count ->
    [one] Ce code n'est pas le bon. Encore un code erroné et la connexion sera bloquée un moment.
   *[other] Ce code n'est pas le bon. Encore { $count } codes erronés et la connexion sera bloquée un moment.
}
code-missing = Saisissez d'abord le code.
locked = { $minutes ->
    [one] Trop de tentatives. Réessayez à { $time } (UTC), dans 1 minute.
   *[other] Trop de tentatives. Réessayez à { $time } (UTC), dans { $minutes } minutes.
}
locked-help = Si ce n'était pas vous, ou si vous avez besoin d'aide tout de suite, contactez l'assistance de { $site }.

## SMS

send-text = M'envoyer un code par SMS
send-new = Envoyer un nouveau code
text-sent = Nous avons envoyé un code au téléphone se terminant par { $ending }.
resend-in = { $seconds ->
    [one] Vous pourrez demander un autre code dans 1 seconde.
   *[other] Vous pourrez demander un autre code dans { $seconds } secondes.
}
use-another-number = Utiliser un autre numéro

## Validation avant d'ajouter un appareil

step-up-intro = Vous avez déjà un appareil. Saisissez un code de celui-ci avant d'en ajouter un autre.
step-up-again = D'abord un code de votre appareil actuel, s'il vous plaît (un code déjà saisi est utilisé ou a plus de cinq minutes).

## Choix de l'appareil

choose-intro = Comment voulez-vous recevoir vos codes ?
choose-app = Application d'authentification
choose-app-help = Google Authenticator, 1Password, Authy, FreeOTP ou toute autre application TOTP.
choose-phone = SMS
phone-label = Numéro de mobile
phone-help = Avec l'indicatif du pays, par exemple +33 6 12 34 56 78.
phone-weaker = Le SMS est le choix le moins sûr : préférez une application si vous le pouvez.
phone-invalid = Saisissez votre numéro de mobile avec l'indicatif du pays, par exemple +33 6 12 34 56 78.
phone-missing = Saisissez d'abord votre numéro de mobile.
phone-too-many = Vous avez essayé plusieurs numéros sur cette page. Revenez sur le site d'où vous venez et recommencez.
scan-intro = Scannez ce code QR avec votre application d'authentification.
qr-name = Code QR à scanner avec votre application d'authentification
manual-key = Ou saisissez cette clé dans l'application :
open-in-app = Sur ce téléphone ? Ouvrez-la dans votre application
confirm-intro-app = Puis saisissez le code affiché par l'application.
confirm-intro-phone = Saisissez le code envoyé par SMS au { $phone }.

## Terminé, et codes de secours

done-title = C'est prêt
done-intro = Votre nouvel appareil est prêt. À votre prochaine connexion, un code vous sera demandé.
done-intro-key = Votre clé de sécurité est prête. À votre prochaine connexion, elle vous sera demandée.
recovery-title = Enregistrez vos codes de secours
recovery-intro = Si vous perdez votre appareil, chacun de ces codes vous permet de vous connecter une fois. Gardez-les en lieu sûr, par exemple dans un gestionnaire de mots de passe ou sur papier.
recovery-shown-once = Une fois que vous continuez, ils ne sont plus affichés, et ils remplacent les codes que vous aviez.
recovery-offer = Vous avez déjà des codes de secours. De nouveaux codes les remplacent.
recovery-make = Créer de nouveaux codes de secours
recovery-download = Télécharger les codes (.txt)
recovery-saved = J'ai enregistré ces codes
recovery-saved-missing = Cochez la case pour confirmer que vous avez enregistré les codes : ils ne seront plus affichés.
recovery-file-heading = Codes de secours pour { $site }. Chacun ne sert qu'une fois.

## Pages inutilisables

error-title = Cette page ne peut pas être utilisée
continue-link = Continuer
link-invalid = Ce lien n'est pas valide. Revenez sur le site d'où vous venez et réessayez.
link-expired = Ce lien a expiré. Revenez sur le site d'où vous venez et réessayez.
link-used = Ce lien a déjà été utilisé. Revenez sur le site d'où vous venez et réessayez.
form-stale = Ce formulaire n'est plus valable. Rechargez la page et réessayez.
unavailable = Quelque chose ne fonctionne pas de notre côté. Réessayez dans une minute.

## Jetons matériels

choose-token = Utiliser ce jeton
choose-token-help = Un porte-clés ou une carte de votre organisation qui affiche un code quand vous appuyez sur son bouton, ou une YubiKey.
serial-label = Numéro de série (imprimé au dos)
token-code-label = Un code qu'il affiche maintenant
resync-title = Le code de votre porte-clés n'est pas accepté ?
resync-help = Si son bouton a été pressé de nombreuses fois, il peut être désynchronisé. Appuyez deux fois et saisissez les deux codes, dans l'ordre.
resync-first = Premier code
resync-second = Code suivant
resync-button = Resynchroniser mon jeton
resync-done = Votre jeton est resynchronisé. Appuyez encore une fois et saisissez le nouveau code.

## Clés de sécurité

use-key = Utiliser votre clé de sécurité
key-intro = Insérez ou touchez votre clé de sécurité quand votre navigateur le demande.
or-code = Ou saisissez plutôt un code de votre application d'authentification ou de votre téléphone.
choose-key = Clé de sécurité
choose-key-help = Une clé physique comme une YubiKey : le choix le plus sûr. Votre navigateur vous demandera de l'insérer ou de la toucher.
key-needs-script = Les clés de sécurité ont besoin de JavaScript, désactivé dans ce navigateur. Vous pouvez utiliser un code à la place.
key-unsupported = Ce navigateur ne peut pas utiliser de clé de sécurité. Vous pouvez utiliser un code à la place.
key-failed = La clé de sécurité n'a pas répondu, ou la demande a été annulée. Réessayez.
key-refused = Cette clé de sécurité n'a pas été acceptée. Réessayez, ou utilisez un code.

## Noms par défaut des appareils (quand le site n'en donne pas)

label-app = Application d'authentification, ajoutée le { $date }
label-app-counter = Application d'authentification (compteur), ajoutée le { $date }
label-phone = Téléphone se terminant par { $digits }
label-key = Clé de sécurité
label-key-model = Clé de sécurité ({ $model })
label-token = Porte-clés { $serial }
label-yubikey = YubiKey { $serial }
date-short = { $day } { $month ->
    [1] janv.
    [2] févr.
    [3] mars
    [4] avr.
    [5] mai
    [6] juin
    [7] juil.
    [8] août
    [9] sept.
    [10] oct.
    [11] nov.
   *[12] déc.
}
