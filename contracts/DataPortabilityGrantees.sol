// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IDataPortabilityGrantees} from "./IDataPortabilityGrantees.sol";

/// @title DataPortabilityGrantees (local stack)
/// @notice Grantee (app) registry with Vana's external surface (PROTOCOL.md 5). Each grantee
/// keeps the ids of the permissions granted to it; the V2 views return only their count, so a
/// reader's cost does not grow with every flow of a load test.
contract DataPortabilityGrantees is IDataPortabilityGrantees, AccessControl {
    bytes32 public constant MAINTAINER_ROLE = keccak256("MAINTAINER_ROLE");
    bytes32 public constant PERMISSION_MANAGER_ROLE = keccak256("PERMISSION_MANAGER_ROLE");

    struct Grantee {
        address owner;
        address granteeAddress;
        string publicKey;
        // Appended in increasing order by the Permissions contract (ids come from a counter),
        // so a plain array is a set: no index mapping needed, one new slot per permission.
        uint256[] permissionIds;
    }

    uint256 public granteesCount;
    mapping(uint256 granteeId => Grantee) private _grantees;
    mapping(address granteeAddress => uint256 granteeId) public granteeAddressToId;

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MAINTAINER_ROLE, admin);
    }

    /// @notice Registers a grantee. The caller must hold MAINTAINER_ROLE, or register an app
    /// that owns itself (`owner == granteeAddress`).
    function registerGrantee(
        address owner,
        address granteeAddress,
        string calldata publicKey
    ) external returns (uint256 granteeId) {
        if (owner == address(0) || granteeAddress == address(0)) revert ZeroAddress();
        if (bytes(publicKey).length == 0) revert EmptyPublicKey();
        if (owner != granteeAddress && !hasRole(MAINTAINER_ROLE, msg.sender)) revert UnauthorizedRegistration();
        if (granteeAddressToId[granteeAddress] != 0) revert GranteeAlreadyRegistered();

        granteeId = ++granteesCount;
        granteeAddressToId[granteeAddress] = granteeId;
        Grantee storage grantee = _grantees[granteeId];
        grantee.owner = owner;
        grantee.granteeAddress = granteeAddress;
        grantee.publicKey = publicKey;
        emit GranteeRegistered(granteeId, owner, granteeAddress, publicKey);
    }

    /// @notice Records that `permissionId` was granted to `granteeId`. Emits no event (as on Vana).
    function addPermissionToGrantee(uint256 granteeId, uint256 permissionId) external onlyRole(PERMISSION_MANAGER_ROLE) {
        if (granteeId == 0 || granteeId > granteesCount) revert GranteeNotFound();
        _grantees[granteeId].permissionIds.push(permissionId);
    }

    function grantees(uint256 granteeId) public view returns (GranteeInfo memory) {
        Grantee storage grantee = _grantees[granteeId];
        return GranteeInfo(grantee.owner, grantee.granteeAddress, grantee.publicKey, grantee.permissionIds);
    }

    function granteeInfo(uint256 granteeId) external view returns (GranteeInfo memory) {
        return grantees(granteeId);
    }

    function granteeByAddress(address granteeAddress) external view returns (GranteeInfo memory) {
        return grantees(granteeAddressToId[granteeAddress]);
    }

    function granteesV2(uint256 granteeId) public view returns (GranteeInfoV2 memory) {
        Grantee storage grantee = _grantees[granteeId];
        return GranteeInfoV2(grantee.owner, grantee.granteeAddress, grantee.publicKey, grantee.permissionIds.length);
    }

    function granteeInfoV2(uint256 granteeId) external view returns (GranteeInfoV2 memory) {
        return granteesV2(granteeId);
    }

    function granteeByAddressV2(address granteeAddress) external view returns (GranteeInfoV2 memory) {
        return granteesV2(granteeAddressToId[granteeAddress]);
    }

    function granteePermissionIds(uint256 granteeId) external view returns (uint256[] memory) {
        return _grantees[granteeId].permissionIds;
    }

    function granteePermissions(uint256 granteeId) external view returns (uint256[] memory) {
        return _grantees[granteeId].permissionIds;
    }

    /// @notice Up to `limit` permission ids starting at `offset`, the total, and whether more follow.
    function granteePermissionsPaginated(
        uint256 granteeId,
        uint256 offset,
        uint256 limit
    ) external view returns (uint256[] memory permissionIds, uint256 totalCount, bool hasMore) {
        uint256[] storage all = _grantees[granteeId].permissionIds;
        totalCount = all.length;
        uint256 remaining = offset < totalCount ? totalCount - offset : 0;
        uint256 n = remaining < limit ? remaining : limit;
        permissionIds = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) permissionIds[i] = all[offset + i];
        hasMore = remaining > n;
    }
}
