!> -----------------------------------------------------------------------------
!> File: fortran/maas.f90
!> -----------------------------------------------------------------------------
!>
!> The maas Fortran 2008 module: one predict call for a model that runs
!> in-process (from a maas model file) or on an inference server, over the C
!> API (include/maas/c/maas.h) through iso_c_binding. Link `maas::fortran`
!> (CMake) or `maas-fortran` (pkg-config); users need not use iso_c_binding.
!>
!> Layout: a sample (row) of the model is a COLUMN of the Fortran array.
!> `x(input_size, n)` holds n samples and `y(output_size, n)` receives their
!> outputs; this column-major array is exactly the C API's row-major
!> `[n][input_size]`, so nothing is transposed or copied.
!>
!> Errors: every fallible procedure is an integer function returning a status
!> (`MAAS_OK` = 0, else one of the `MAAS_*` codes below, the same numbers as
!> the C API and absl::StatusCode); `maas_last_error()` returns the message of
!> the calling thread's last maas call. Nothing stops the program: bad input
!> (an unloaded model, arrays of the wrong shape) is a status, and on any
!> failure `y` is left untouched.
!>
!> Example:
!>
!>   use maas
!>   type(maas_model) :: model
!>   real(8) :: x(1, 100), y(1, 100)
!>   if (model%load_local("drag.json") /= MAAS_OK) then
!>     print *, "load: ", maas_last_error()
!>     stop 1
!>   end if
!>   if (model%predict(x, y) /= MAAS_OK) print *, maas_last_error()
!>   call model%free()
!>
!> A `maas_model` owns its handle: call `free()` once when done, and do not
!> copy it by assignment (both copies would hold the same handle; the type
!> has no finalizer for that reason). Thread safety: as the C API (one model
!> may be used by several threads; `free` must not race with other uses).
module maas
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_int, &
      c_int64_t, c_float, c_double, c_char, c_size_t, c_null_char
  implicit none
  private

  public :: maas_model, maas_last_error, maas_status_name, maas_version

  !> Status codes (include/maas/c/maas.h, absl::StatusCode).
  integer, parameter, public :: MAAS_OK = 0, MAAS_CANCELLED = 1, MAAS_UNKNOWN = 2, &
      MAAS_INVALID_ARGUMENT = 3, MAAS_DEADLINE_EXCEEDED = 4, MAAS_NOT_FOUND = 5, &
      MAAS_ALREADY_EXISTS = 6, MAAS_PERMISSION_DENIED = 7, MAAS_RESOURCE_EXHAUSTED = 8, &
      MAAS_FAILED_PRECONDITION = 9, MAAS_ABORTED = 10, MAAS_OUT_OF_RANGE = 11, &
      MAAS_UNIMPLEMENTED = 12, MAAS_INTERNAL = 13, MAAS_UNAVAILABLE = 14, &
      MAAS_DATA_LOSS = 15, MAAS_UNAUTHENTICATED = 16

  !> A model handle: local network or remote model. Empty until
  !> `load_local` or `connect_remote` succeeds.
  type :: maas_model
    private
    type(c_ptr) :: handle = c_null_ptr
  contains
    !> status = model%load_local(path): a local network from a model file.
    procedure :: load_local => model_load_local
    !> status = model%connect_remote(url, name [, protocol] [, timeout_seconds])
    procedure :: connect_remote => model_connect_remote
    !> status = model%input_size(n) / model%output_size(n): values per sample.
    procedure :: input_size => model_input_size
    procedure :: output_size => model_output_size
    !> status = model%predict(x, y) for real(4) or real(8) rank-2 arrays.
    generic :: predict => predict_r4, predict_r8
    procedure, private :: predict_r4 => model_predict_r4
    procedure, private :: predict_r8 => model_predict_r8
    !> model%loaded(): .true. when the model holds a handle.
    procedure :: loaded => model_loaded
    !> call model%free(): releases the handle (no-op when empty).
    procedure :: free => model_free
  end type maas_model

  interface
    function c_maas_model_load_local(path, model) bind(c, name="maas_model_load_local")
      import :: c_ptr, c_char, c_int
      character(kind=c_char), intent(in) :: path(*)
      type(c_ptr), intent(out) :: model
      integer(c_int) :: c_maas_model_load_local
    end function

    function c_maas_model_connect_remote(url, name, protocol, timeout, model) &
        bind(c, name="maas_model_connect_remote")
      import :: c_ptr, c_char, c_int, c_double
      character(kind=c_char), intent(in) :: url(*), name(*), protocol(*)
      real(c_double), value :: timeout
      type(c_ptr), intent(out) :: model
      integer(c_int) :: c_maas_model_connect_remote
    end function

    function c_maas_model_input_size(model, n) bind(c, name="maas_model_input_size")
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: model
      integer(c_int64_t), intent(out) :: n
      integer(c_int) :: c_maas_model_input_size
    end function

    function c_maas_model_output_size(model, n) bind(c, name="maas_model_output_size")
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: model
      integer(c_int64_t), intent(out) :: n
      integer(c_int) :: c_maas_model_output_size
    end function

    function c_maas_model_predict_f32(model, x, rows, x_cols, y, y_rows, y_cols) &
        bind(c, name="maas_model_predict_f32")
      import :: c_ptr, c_int, c_int64_t, c_float
      type(c_ptr), value :: model
      real(c_float), intent(in) :: x(*)
      integer(c_int64_t), value :: rows, x_cols, y_rows, y_cols
      real(c_float), intent(inout) :: y(*)
      integer(c_int) :: c_maas_model_predict_f32
    end function

    function c_maas_model_predict_f64(model, x, rows, x_cols, y, y_rows, y_cols) &
        bind(c, name="maas_model_predict_f64")
      import :: c_ptr, c_int, c_int64_t, c_double
      type(c_ptr), value :: model
      real(c_double), intent(in) :: x(*)
      integer(c_int64_t), value :: rows, x_cols, y_rows, y_cols
      real(c_double), intent(inout) :: y(*)
      integer(c_int) :: c_maas_model_predict_f64
    end function

    subroutine c_maas_model_free(model) bind(c, name="maas_model_free")
      import :: c_ptr
      type(c_ptr), value :: model
    end subroutine

    function c_maas_last_error_copy(buffer, size) bind(c, name="maas_last_error_copy")
      import :: c_char, c_size_t
      character(kind=c_char), intent(out) :: buffer(*)
      integer(c_size_t), value :: size
      integer(c_size_t) :: c_maas_last_error_copy
    end function

    function c_maas_status_name(code) bind(c, name="maas_status_name")
      import :: c_ptr, c_int
      integer(c_int), value :: code
      type(c_ptr) :: c_maas_status_name
    end function

    function c_maas_version() bind(c, name="maas_version")
      import :: c_ptr
      type(c_ptr) :: c_maas_version
    end function

    function c_strlen(s) bind(c, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: c_strlen
    end function
  end interface

contains

  !> The message of the calling thread's last maas call ("" after success).
  function maas_last_error() result(message)
    character(len=:), allocatable :: message
    character(kind=c_char) :: probe(1)
    character(kind=c_char), allocatable :: buffer(:)
    integer(c_size_t) :: n
    integer :: i
    n = c_maas_last_error_copy(probe, 1_c_size_t)
    allocate(buffer(n + 1))
    n = c_maas_last_error_copy(buffer, n + 1)
    allocate(character(len=n) :: message)
    do i = 1, int(n)
      message(i:i) = buffer(i)
    end do
  end function maas_last_error

  !> "OK", "INVALID_ARGUMENT", ... for a status code.
  function maas_status_name(code) result(name)
    integer, intent(in) :: code
    character(len=:), allocatable :: name
    name = c_string(c_maas_status_name(int(code, c_int)))
  end function maas_status_name

  !> The maas library version, e.g. "0.1.0".
  function maas_version() result(version)
    character(len=:), allocatable :: version
    version = c_string(c_maas_version())
  end function maas_version

  !> The layer list and sizes come from the file (a run-time-sized network on
  !> maas' SIMD kernels, FP64 when the file's input is FP64, else FP32).
  !> MAAS_NOT_FOUND for a missing file, MAAS_INVALID_ARGUMENT for an invalid
  !> one; on failure the model is left as it was.
  function model_load_local(self, path) result(status)
    class(maas_model), intent(inout) :: self
    character(len=*), intent(in) :: path
    integer :: status
    type(c_ptr) :: handle
    status = int(c_maas_model_load_local(to_c(path), handle))
    if (status == MAAS_OK) then
      call self%free()
      self%handle = handle
    end if
  end function model_load_local

  function model_connect_remote(self, url, name, protocol, timeout_seconds) result(status)
    class(maas_model), intent(inout) :: self
    character(len=*), intent(in) :: url, name
    !> "v2" (default), "v2-binary" or "v1".
    character(len=*), intent(in), optional :: protocol
    !> Bound on every server call; 0 (default) keeps the transport's.
    real(8), intent(in), optional :: timeout_seconds
    integer :: status
    type(c_ptr) :: handle
    character(len=:), allocatable :: proto
    real(c_double) :: timeout
    proto = "v2"
    if (present(protocol)) proto = protocol
    timeout = 0
    if (present(timeout_seconds)) timeout = real(timeout_seconds, c_double)
    status = int(c_maas_model_connect_remote(to_c(url), to_c(name), to_c(proto), timeout, &
                                             handle))
    if (status == MAAS_OK) then
      call self%free()
      self%handle = handle
    end if
  end function model_connect_remote

  function model_input_size(self, n) result(status)
    class(maas_model), intent(in) :: self
    integer, intent(out) :: n
    integer :: status
    integer(c_int64_t) :: cn
    cn = 0
    status = int(c_maas_model_input_size(self%handle, cn))
    n = int(cn)
  end function model_input_size

  function model_output_size(self, n) result(status)
    class(maas_model), intent(in) :: self
    integer, intent(out) :: n
    integer :: status
    integer(c_int64_t) :: cn
    cn = 0
    status = int(c_maas_model_output_size(self%handle, cn))
    n = int(cn)
  end function model_output_size

  !> x(input_size, n) -> y(output_size, n), one sample per column.
  function model_predict_r4(self, x, y) result(status)
    class(maas_model), intent(in) :: self
    real(c_float), intent(in), contiguous :: x(:, :)
    real(c_float), intent(inout), contiguous :: y(:, :)
    integer :: status
    status = int(c_maas_model_predict_f32(self%handle, x, size(x, 2, c_int64_t), &
        size(x, 1, c_int64_t), y, size(y, 2, c_int64_t), size(y, 1, c_int64_t)))
  end function model_predict_r4

  function model_predict_r8(self, x, y) result(status)
    class(maas_model), intent(in) :: self
    real(c_double), intent(in), contiguous :: x(:, :)
    real(c_double), intent(inout), contiguous :: y(:, :)
    integer :: status
    status = int(c_maas_model_predict_f64(self%handle, x, size(x, 2, c_int64_t), &
        size(x, 1, c_int64_t), y, size(y, 2, c_int64_t), size(y, 1, c_int64_t)))
  end function model_predict_r8

  logical function model_loaded(self)
    class(maas_model), intent(in) :: self
    model_loaded = c_associated(self%handle)
  end function model_loaded

  subroutine model_free(self)
    class(maas_model), intent(inout) :: self
    call c_maas_model_free(self%handle)
    self%handle = c_null_ptr
  end subroutine model_free

  function to_c(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=len(s) + 1) :: c
    c = s // c_null_char
  end function to_c

  function c_string(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(p)) then
      s = ""
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer_chars(p, n, chars)
    allocate(character(len=n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function c_string

  subroutine c_f_pointer_chars(p, n, chars)
    use, intrinsic :: iso_c_binding, only: c_f_pointer
    type(c_ptr), intent(in) :: p
    integer, intent(in) :: n
    character(kind=c_char), pointer, intent(out) :: chars(:)
    call c_f_pointer(p, chars, [n])
  end subroutine c_f_pointer_chars

end module maas
