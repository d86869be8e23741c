"""Contains all the data models used in inputs/outputs"""

from .algorithm import Algorithm
from .api_key import ApiKey
from .api_key_list import ApiKeyList
from .assign_body import AssignBody
from .assigned import Assigned
from .audit_page import AuditPage
from .breaker_status import BreakerStatus
from .claim_body import ClaimBody
from .claimed_body import ClaimedBody
from .confirm_request import ConfirmRequest
from .confirm_request_credential_type_0 import ConfirmRequestCredentialType0
from .confirmed import Confirmed
from .device import Device
from .device_kind import DeviceKind
from .device_list import DeviceList
from .device_status import DeviceStatus
from .enroll_hotp import EnrollHotp
from .enroll_sms import EnrollSms
from .enroll_totp import EnrollTotp
from .enroll_webauthn import EnrollWebauthn
from .enrolled import Enrolled
from .enrolled_sms import EnrolledSms
from .enrolled_webauthn import EnrolledWebauthn
from .enrolled_webauthn_options import EnrolledWebauthnOptions
from .error_body import ErrorBody
from .exported_event import ExportedEvent
from .exported_event_detail_type_0 import ExportedEventDetailType0
from .imported import Imported
from .jwks_get_response_200 import JwksGetResponse200
from .line_error import LineError
from .link import Link
from .link_request import LinkRequest
from .lock_state import LockState
from .method import Method
from .new_recovery_codes import NewRecoveryCodes
from .openapi_get_response_200 import OpenapiGetResponse200
from .purpose import Purpose
from .recovery_codes import RecoveryCodes
from .resync_body import ResyncBody
from .revoke_body import RevokeBody
from .role import Role
from .security_key import SecurityKey
from .send_sms import SendSms
from .sms_sent import SmsSent
from .status import Status
from .tenant_breaker import TenantBreaker
from .token import Token
from .token_list import TokenList
from .tokens_imported import TokensImported
from .user_detail import UserDetail
from .user_page import UserPage
from .user_summary import UserSummary
from .verified import Verified
from .verify_request import VerifyRequest
from .verify_request_credential_type_0 import VerifyRequestCredentialType0
from .webauthn_challenge import WebauthnChallenge
from .webauthn_challenge_options import WebauthnChallengeOptions
from .webauthn_challenge_request import WebauthnChallengeRequest

__all__ = (
    "Algorithm",
    "ApiKey",
    "ApiKeyList",
    "AssignBody",
    "Assigned",
    "AuditPage",
    "BreakerStatus",
    "ClaimBody",
    "ClaimedBody",
    "ConfirmRequest",
    "ConfirmRequestCredentialType0",
    "Confirmed",
    "Device",
    "DeviceKind",
    "DeviceList",
    "DeviceStatus",
    "EnrollHotp",
    "EnrollSms",
    "EnrollTotp",
    "EnrollWebauthn",
    "Enrolled",
    "EnrolledSms",
    "EnrolledWebauthn",
    "EnrolledWebauthnOptions",
    "ErrorBody",
    "ExportedEvent",
    "ExportedEventDetailType0",
    "Imported",
    "JwksGetResponse200",
    "LineError",
    "Link",
    "LinkRequest",
    "LockState",
    "Method",
    "NewRecoveryCodes",
    "OpenapiGetResponse200",
    "Purpose",
    "RecoveryCodes",
    "ResyncBody",
    "RevokeBody",
    "Role",
    "SecurityKey",
    "SendSms",
    "SmsSent",
    "Status",
    "TenantBreaker",
    "Token",
    "TokenList",
    "TokensImported",
    "UserDetail",
    "UserPage",
    "UserSummary",
    "Verified",
    "VerifyRequest",
    "VerifyRequestCredentialType0",
    "WebauthnChallenge",
    "WebauthnChallengeOptions",
    "WebauthnChallengeRequest",
)
