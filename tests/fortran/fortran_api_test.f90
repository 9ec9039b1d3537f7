! The Fortran module's error paths: an empty model, arrays of the wrong shape,
! an unreachable server, a bad protocol. Each must come back as a status with
! a message, with the output array untouched; the program never stops early.
program fortran_api_test
  use maas
  implicit none
  type(maas_model) :: model
  real(8) :: x8(2, 3), y8(1, 3)
  real(4) :: x4(2, 3), y4(1, 3)
  integer :: status, failures, n

  failures = 0
  x8 = 1
  y8 = -7
  x4 = 1
  y4 = -7

  call expect(.not. model%loaded(), "a new model is empty")
  status = model%predict(x8, y8)
  call expect(status == MAAS_INVALID_ARGUMENT, "predict on an empty model: " // maas_last_error())
  call expect(index(maas_last_error(), "handle is null") > 0, "message names the null handle")
  status = model%predict(x4, y4)
  call expect(status == MAAS_INVALID_ARGUMENT, "real(4) predict on an empty model")
  call expect(all(y8 == -7) .and. all(y4 == -7), "outputs untouched")
  status = model%input_size(n)
  call expect(status == MAAS_INVALID_ARGUMENT, "input_size of an empty model")
  call expect(maas_status_name(MAAS_UNAVAILABLE) == "UNAVAILABLE", "status names")
  call expect(len(maas_version()) > 0, "version: " // maas_version())

  status = model%connect_remote("http://127.0.0.1:1", "drag_cd", timeout_seconds=5d0)
  if (status == MAAS_UNIMPLEMENTED) then
    print '(2a)', "no HTTP transport in this build, remote checks not run: ", maas_last_error()
  else
    call expect(status == MAAS_UNAVAILABLE, "no server: " // maas_status_name(status) // ": " &
                // maas_last_error())
    call expect(.not. model%loaded(), "a failed connect leaves the model empty")
    status = model%connect_remote("http://127.0.0.1:1", "drag_cd", protocol="grpc")
    call expect(status == MAAS_INVALID_ARGUMENT, "bad protocol: " // maas_last_error())
  end if
  call model%free()

  if (failures == 0) then
    print '(a)', "fortran api ok"
  else
    print '(i0, a)', failures, " fortran api checks failed"
    stop 1
  end if

contains

  subroutine expect(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (ok) then
      print '(2a)', "ok: ", what
    else
      print '(2a)', "FAILED: ", what
      failures = failures + 1
    end if
  end subroutine expect

end program fortran_api_test
