"""What can go wrong with an image a person sends, each with what to do about it."""

from __future__ import annotations

from core.errors import AppError
from core.i18n import N_


class MediaTooLarge(AppError):
    status_code = 413
    code = "too_large"
    detail = N_(
        "Le fichier dépasse la taille maximale de {limit} : réduisez l'image (ou exportez-la en "
        "JPEG) avant de l'envoyer."
    )


class TooManyPixels(AppError):
    status_code = 422
    code = "too_many_pixels"
    detail = N_(
        "L'image est trop grande : {limit} mégapixels au plus (largeur × hauteur). Réduisez ses "
        "dimensions avant de l'envoyer."
    )


class UnsupportedFormat(AppError):
    status_code = 415
    code = "unsupported_format"
    detail = N_(
        "Ce fichier n'est pas une image acceptée : envoyez une image JPEG, PNG, WebP ou GIF."
    )


HEIC_DETAIL = N_(
    "Les photos HEIC ou AVIF (iPhone, certains Android) ne sont pas acceptées : exportez la photo "
    "en JPEG, ou réglez l'appareil photo sur « Le plus compatible »."
)
OTHER_IMAGE_DETAIL = N_(
    "Les images {format} ne sont pas acceptées : exportez celle-ci en JPEG ou en PNG avant de "
    "l'envoyer."
)


class CorruptImage(AppError):
    status_code = 422
    code = "corrupt_image"
    detail = N_(
        "L'image est endommagée ou incomplète (envoi interrompu ?) et ne peut pas être lue : "
        "ouvrez-la et enregistrez-la de nouveau, puis renvoyez-la."
    )


class AltTextRequired(AppError):
    status_code = 422
    code = "alt_text_required"
    detail = N_(
        "Ajoutez un texte alternatif (champ « alt_text ») : décrivez l'image en une ou deux "
        "phrases pour les personnes qui ne la voient pas (obligation RGAA)."
    )


class AltTextTooLong(AppError):
    status_code = 422
    code = "alt_text_too_long"
    detail = N_(
        "Le texte alternatif fait {length} caractères : {max} au plus, pour que tous les réseaux "
        "l'acceptent. Gardez l'essentiel ; le détail peut aller dans le texte de la publication."
    )


class FileMissing(AppError):
    status_code = 422
    code = "file_required"
    detail = N_("Joignez l'image dans le champ « file » du formulaire (multipart/form-data).")


class NotMultipart(AppError):
    status_code = 415
    code = "multipart_required"
    detail = N_(
        "Envoyez l'image dans un formulaire multipart/form-data, avec les champs « file » "
        "(l'image) et « alt_text » (sa description)."
    )


class StoredFileMissing(AppError):
    status_code = 404
    code = "file_missing"
    detail = N_(
        "Le fichier de cette image est introuvable sur le serveur : envoyez-la de nouveau, puis "
        "remplacez-la là où elle sert."
    )
