// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BatchFunder (local stack)
/// @notice Funds many wallets in one transaction: a 30M-gas block fits well over 200 new
/// recipients (about 35k gas each). All or nothing: one failed transfer reverts the batch.
/// @dev Holds no state and no funds between calls, so re-entering from a recipient gains nothing.
contract BatchFunder {
    error ValueMismatch(uint256 expected, uint256 provided);
    error LengthMismatch(uint256 recipientsLength, uint256 amountsLength);
    error TransferFailed(address recipient);

    /// @notice Sends `amountEach` wei to every recipient; msg.value must be exactly the total.
    function fund(address[] calldata recipients, uint256 amountEach) external payable {
        uint256 total = recipients.length * amountEach;
        if (msg.value != total) revert ValueMismatch(total, msg.value);
        for (uint256 i = 0; i < recipients.length; ++i) _send(recipients[i], amountEach);
    }

    /// @notice Sends `amounts[i]` wei to `recipients[i]`; msg.value must be exactly the sum.
    function fundAmounts(address[] calldata recipients, uint256[] calldata amounts) external payable {
        if (recipients.length != amounts.length) revert LengthMismatch(recipients.length, amounts.length);
        uint256 total = 0;
        for (uint256 i = 0; i < amounts.length; ++i) total += amounts[i];
        if (msg.value != total) revert ValueMismatch(total, msg.value);
        for (uint256 i = 0; i < recipients.length; ++i) _send(recipients[i], amounts[i]);
    }

    function _send(address recipient, uint256 amount) private {
        (bool ok, ) = recipient.call{value: amount}("");
        if (!ok) revert TransferFailed(recipient);
    }
}
