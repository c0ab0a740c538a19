// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The DataPortabilityGrantees surface of PROTOCOL.md 5 that the local stack implements,
/// including SDK-HEAD's count-based V2 views.
interface IDataPortabilityGrantees {
    struct GranteeInfo {
        address owner;
        address granteeAddress;
        string publicKey;
        uint256[] permissionIds;
    }

    struct GranteeInfoV2 {
        address owner;
        address granteeAddress;
        string publicKey;
        uint256 permissionsCount;
    }

    event GranteeRegistered(
        uint256 indexed granteeId,
        address indexed owner,
        address indexed granteeAddress,
        string publicKey
    );

    error GranteeAlreadyRegistered();
    error EmptyPublicKey();
    error ZeroAddress();
    error GranteeNotFound();
    error UnauthorizedRegistration();

    function registerGrantee(address owner, address granteeAddress, string calldata publicKey) external returns (uint256);

    function addPermissionToGrantee(uint256 granteeId, uint256 permissionId) external;

    function granteesCount() external view returns (uint256);

    function granteeAddressToId(address granteeAddress) external view returns (uint256);

    function grantees(uint256 granteeId) external view returns (GranteeInfo memory);

    function granteeInfo(uint256 granteeId) external view returns (GranteeInfo memory);

    function granteeByAddress(address granteeAddress) external view returns (GranteeInfo memory);

    function granteesV2(uint256 granteeId) external view returns (GranteeInfoV2 memory);

    function granteeInfoV2(uint256 granteeId) external view returns (GranteeInfoV2 memory);

    function granteeByAddressV2(address granteeAddress) external view returns (GranteeInfoV2 memory);

    function granteePermissionIds(uint256 granteeId) external view returns (uint256[] memory);

    function granteePermissions(uint256 granteeId) external view returns (uint256[] memory);

    function granteePermissionsPaginated(
        uint256 granteeId,
        uint256 offset,
        uint256 limit
    ) external view returns (uint256[] memory permissionIds, uint256 totalCount, bool hasMore);
}
